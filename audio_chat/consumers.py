"""The WebSocket consumer: authenticates, then moves frames between the client and the realtime core."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host

from audio_chat import engines, limits
from audio_chat.db import db_async
from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import session_group
from audio_chat.tokens import InvalidClientToken, read_client_token
from voice import metrics, protocol
from voice.archive import UplinkArchive
from voice.connection import ChatConnection
from voice.limits import ConnectionLimits

logger = logging.getLogger(__name__)


class ConnectionRefused(Exception):
    def __init__(self, code: protocol.CloseCode) -> None:
        super().__init__(code.name)
        self.code = code


@db_async
def _open_session(session_id: str, token: str | None) -> tuple[ChatSession, int]:
    try:
        version = read_client_token(token, session_id)
    except InvalidClientToken:
        raise ConnectionRefused(protocol.CloseCode.UNAUTHORIZED) from None
    session = ChatSession.objects.select_related("level").filter(pk=session_id).first()
    if session is None:
        raise ConnectionRefused(protocol.CloseCode.SESSION_NOT_FOUND)
    if version != session.client_token_version:
        raise ConnectionRefused(protocol.CloseCode.UNAUTHORIZED)
    if not session.is_active:
        raise ConnectionRefused(protocol.CloseCode.SESSION_ENDED)
    return session, ChatMessage.objects.filter(session=session).count()


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers always send Origin: it must be an allowed host or a listed origin. Native game clients send none."""
    origin = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"origin"), None)
    if origin is None:
        return True
    if origin in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


class AudioChatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no type hints
    """``ws/audio-chat/{session_id}/?token=…``: binary frames are audio, text frames are JSON messages."""

    connection: ChatConnection | None = None
    slot_session_id: str | None = None
    control_group: str | None = None

    async def connect(self) -> None:
        # Accept first so that refusals carry our close code; a refused handshake reaches browsers as a bare 1006.
        await self.accept()
        if not origin_allowed(self.scope):
            await self.close(code=protocol.CloseCode.ORIGIN_NOT_ALLOWED)
            return
        session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        token = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        try:
            session, history_count = await _open_session(session_id, token)
        except ConnectionRefused as refused:
            await self.close(code=refused.code)
            return
        if not await limits.take_connection_slot(session_id):
            await self.close(code=protocol.CloseCode.LIMIT_REACHED)
            return
        self.slot_session_id = session_id
        # Ending the session (REST or admin, on any worker) reaches this socket through the channel layer.
        self.control_group = session_group(session_id)
        await self.channel_layer.group_add(self.control_group, self.channel_name)
        conversation, store = engines.open_conversation(session)
        engine = engines.build_engine(conversation, store, send_json=self.send_json, send_audio=self.send_audio)
        archive = UplinkArchive(Path(settings.AUDIO_ARCHIVE_DIR), session_id) if settings.AUDIO_ARCHIVE_DIR else None
        self.connection = ChatConnection(
            engine=engine,
            send_json=self.send_json,
            close=self.close_with,
            max_text_chars=settings.MAX_TEXT_MESSAGE_CHARS,
            archive=archive,
            limits=ConnectionLimits(
                frames_per_second=settings.MAX_FRAMES_PER_SECOND,
                audio_bytes_per_second=settings.MAX_AUDIO_BYTES_PER_SECOND,
            ),
            speaking_budget=limits.DailySpeakingBudget(session_id),
        )
        metrics.ACTIVE_CONNECTIONS.inc()
        await self.send_json(
            protocol.connection_message(
                session_id=session_id,
                mode=engine.mode.value,
                model=engine.model,
                history_message_count=history_count,
            )
        )
        self.connection.start()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message: a trip to the database thread for
        # each 20 ms audio frame, a fifth of the service's CPU at 100 children. Frames never use the database
        # here; the calls that do (db_async) close stale connections around themselves.
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.connection is None:
            return
        if bytes_data is not None:
            await self.connection.receive_bytes(bytes_data)
        elif text_data is not None:
            await self.connection.receive_text(text_data)

    async def disconnect(self, code: int) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
            metrics.ACTIVE_CONNECTIONS.dec()
        if self.control_group is not None:
            await self.channel_layer.group_discard(self.control_group, self.channel_name)
            self.control_group = None
        if self.slot_session_id is not None:
            await limits.release_connection_slot(self.slot_session_id)
            self.slot_session_id = None

    async def close_with(self, code: int) -> None:
        await self.close(code=code)

    async def session_ended(self, event: dict[str, Any]) -> None:
        """The channel-layer message ``{"type": "session.ended"}``: the session was ended elsewhere."""
        await self.close(code=protocol.CloseCode.SESSION_ENDED)

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":")))

    async def send_audio(self, pcm: bytes) -> None:
        await self.send(bytes_data=pcm)
