"""WebSocket routes."""

from django.urls import path

from audio_chat.consumers import AudioChatConsumer

websocket_urlpatterns = [
    path("ws/audio-chat/<uuid:session_id>/", AudioChatConsumer.as_asgi()),
]
