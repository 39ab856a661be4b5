"""WebSocket routes."""

from django.urls import path

from audio_chat.consumers import AudioChatConsumer
from audio_chat.realtime import open_connection

websocket_urlpatterns = [
    path("ws/audio-chat/<uuid:session_id>/", AudioChatConsumer.as_asgi(open_connection=open_connection)),
]
