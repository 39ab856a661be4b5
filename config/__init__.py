"""Django wiring for audio-chat: settings from the environment, ASGI application and URLs."""
