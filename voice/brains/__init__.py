"""Text brains: the interface, the fallback chain, and the offline hint brain."""
