"""Engines that run a connection's turns: spoken (offline or text mode) and live (Gemini Live)."""
