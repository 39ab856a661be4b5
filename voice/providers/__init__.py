"""The helper's brains behind one interface: Gemini (text), and the offline hint brain."""
