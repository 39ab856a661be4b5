"""WebSocket routes, and the router that refuses an upgrade on any other path with a plain 404."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.routing import URLRouter
from django.urls import path

from audio_chat.consumers import AudioChatConsumer
from audio_chat.load import worker_load
from audio_chat.realtime import open_connection

websocket_urlpatterns = [
    path(
        "ws/audio-chat/<uuid:session_id>/",
        AudioChatConsumer.as_asgi(open_connection=open_connection, load=worker_load()),
    ),
]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
NOT_FOUND_BODY = json.dumps({"detail": "No WebSocket endpoint at this path."}).encode()


class WebSocketRouter(URLRouter):  # type: ignore[misc]  # channels ships no type hints
    """Channels' URLRouter, except that a path no route matches is refused quietly.

    URLRouter raises ValueError there, which the server logs as a 500 with a traceback; a wrong path (a session
    id without dashes, an HTTP path) is the client's mistake, answered with 404 (or a close where the server
    cannot send an HTTP response to a WebSocket handshake).
    """

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if self._matches(scope):
            await super().__call__(scope, receive, send)
            return
        connect = await receive()
        if connect.get("type") != "websocket.connect":
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            headers = [(b"content-type", b"application/json")]
            await send({"type": "websocket.http.response.start", "status": 404, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": NOT_FOUND_BODY})
        else:
            await send({"type": "websocket.close"})

    def _matches(self, scope: dict[str, Any]) -> bool:
        path_remaining = scope.get("path_remaining")
        route_path = str(path_remaining if path_remaining is not None else scope.get("path", ""))
        root_path = "" if path_remaining is not None else str(scope.get("root_path", ""))
        if not route_path.startswith(root_path):
            return False
        route_path = route_path[len(root_path) :].lstrip("/")
        return any(route.pattern.match(route_path) for route in self.routes)
