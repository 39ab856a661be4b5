"""Tests for the Gemini Live emulator, driven by the real google-genai SDK."""
