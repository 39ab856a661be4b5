"""The Django app of audio-chat: data, admin, REST API, the WebSocket consumer and the demo page."""
