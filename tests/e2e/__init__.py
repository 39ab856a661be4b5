"""Real-browser tests: Playwright driving Chromium, a WAV file as the microphone."""
