"""The Gemini provider: the SDK (the only importer of google.genai) and the Live events it maps to."""
