"""The realtime core of audio-chat: conversation logic, the browser protocol and the brains, free of Django."""
