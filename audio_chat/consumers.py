"""The WebSocket consumer: checks the origin, takes the client's token, then moves frames to and from the core."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.http.request import validate_host

from audio_chat.services import picture_of_event, session_group
from voice import codecs, protocol
from voice.connection import ChatConnection, ClientLink, ConnectionFactory, ConnectionRefused
from voice.game_state import validate_game_state
from voice.load import LoadMonitor
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)


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
    """``ws/audio-chat/{session_id}/``: binary frames are audio, text frames are JSON messages.

    The client token comes in the query (``?token=``) or, to keep it out of URLs and logs, as the first message
    (``{"type": "auth", "token": …}``) within ``WEBSOCKET_AUTH_SECONDS``. ``open_connection`` (given to
    ``as_asgi``) builds the connection; everything it takes is released on disconnect, whatever happened. ``load``
    (this worker's monitor) refuses new sockets while the worker is overloaded, before anything is opened for them.
    """

    def __init__(
        self, *args: Any, open_connection: ConnectionFactory, load: LoadMonitor | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.open_connection = open_connection
        self.load = load
        self.counted = False  # this socket, with its token, counts as one of the worker's connections
        self.connection: ChatConnection | None = None
        self.link: ClientLink | None = None
        self.resources: contextlib.AsyncExitStack | None = None
        self.awaiting_token: asyncio.Task[None] | None = None
        self.wire = codecs.PCM_BOTH_WAYS
        self._dispatching = asyncio.Lock()  # one message at a time, whichever way it came, as Channels does

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' entry point, reading the client's frames in this task.

        Channels' own loop makes a task and an ``asyncio.wait`` for every message it passes on: for audio, 50 times
        a second per child. Here the client's frames are awaited directly, and the rare channel-layer messages (the
        session ended, a picture or game state from REST) come through a task of their own; both dispatch under
        one lock, one message at a time, as before.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        from_layer: asyncio.Task[None] | None = None
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            from_layer = asyncio.create_task(self._dispatch_from_layer(), name="consumer-layer")
        try:
            while True:
                message = await receive()
                async with self._dispatching:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        finally:
            await cancel_and_wait(from_layer)

    async def _dispatch_from_layer(self) -> None:
        """Until the socket ends. A handler that fails closes the socket with 1011; a channel layer that fails to
        deliver is logged with its traceback (Redis's layer can raise while a socket's channel is being dropped)."""
        while True:
            try:
                message = await self.channel_receive()
            except Exception:
                logger.exception("Channel-layer messages for this socket stopped")
                return
            try:
                async with self._dispatching:
                    await self.dispatch(message)
            except Exception:
                logger.exception("A %s message for this socket failed", message.get("type"))
                if self.link is not None:
                    await self.link.close(protocol.CloseCode.INTERNAL_ERROR)

    async def connect(self) -> None:
        # Accept first so that refusals carry our close code; a refused handshake reaches browsers as a bare 1006.
        await self.accept()
        if not origin_allowed(self.scope):
            await self.close(code=protocol.CloseCode.ORIGIN_NOT_ALLOWED)
            return
        if await self._refused_for_load():
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            self.wire = codecs.negotiate(query)
        except codecs.UnsupportedCodec as unsupported:
            await self._send_text(
                json.dumps(protocol.error_message(protocol.ErrorCode.AUDIO_UNSUPPORTED, str(unsupported)))
            )
            await self.close(code=protocol.CloseCode.UNSUPPORTED_DATA)
            return
        token = query.get("token", [None])[0]
        if token is None:
            self.awaiting_token = asyncio.create_task(self._refuse_without_token(), name="awaiting-token")
            return
        await self._open(token)

    async def _refused_for_load(self) -> bool:
        """Refuse the socket (``overloaded``, then 1013) when this worker takes no new child now."""
        if self.load is None or self.load.admits():
            return False
        await self._send_text(json.dumps(protocol.overloaded_message(self.load.settings.retry_after_seconds)))
        await self.close(code=protocol.CloseCode.TRY_AGAIN_LATER)
        return True

    async def _refuse_without_token(self) -> None:
        await asyncio.sleep(settings.WEBSOCKET_AUTH_SECONDS)
        self.awaiting_token = None
        await self.close(code=protocol.CloseCode.UNAUTHORIZED)

    async def _stop_awaiting_token(self) -> None:
        waiting, self.awaiting_token = self.awaiting_token, None
        await cancel_and_wait(waiting)

    async def _open(self, token: str | None) -> None:
        # Asked again once the token is here (it may come seconds after the socket), and counted from here: a socket
        # that never shows a token takes no place under the connection cap.
        if await self._refused_for_load():
            return
        if self.load is not None:
            self.load.connection_opened()
            self.counted = True
        session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        self.link = ClientLink(send_text=self._send_text, send_bytes=self._send_bytes, close=self._close_with)
        self.resources = contextlib.AsyncExitStack()
        try:
            opened = await self.open_connection(session_id, token, self.link, self.resources, wire=self.wire)
        except ConnectionRefused as refused:
            await self._release()
            await self.link.close(refused.code)
            return
        except Exception:
            logger.exception("Opening a connection to session %s failed", session_id)
            await self._release()
            await self.link.send_json(
                protocol.error_message(protocol.ErrorCode.INTERNAL, "The helper could not start. Please try again.")
            )
            await self.link.close(protocol.CloseCode.INTERNAL_ERROR)
            return
        # Ending, erasing or re-keying the session (REST or admin, on any worker) reaches this socket.
        group = session_group(session_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.resources.push_async_callback(self.channel_layer.group_discard, group, self.channel_name)
        self.connection = opened.connection
        await self.link.send_json(opened.greeting)
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
        if self.connection is not None:
            if bytes_data is not None:
                await self.connection.receive_bytes(bytes_data)
            elif text_data is not None:
                await self.connection.receive_text(text_data)
        elif self.awaiting_token is not None:
            await self._stop_awaiting_token()
            await self._open(protocol.token_of_auth_message(text_data))

    async def disconnect(self, code: int) -> None:
        if self.counted and self.load is not None:
            self.counted = False
            self.load.connection_closed()
        await self._stop_awaiting_token()
        if self.link is not None:
            self.link.disconnected()
        await self._release()

    async def _release(self) -> None:
        """Close the connection and give back everything it took: each step runs even when another fails."""
        resources, self.resources = self.resources, None
        self.connection = None
        if resources is not None:
            try:
                await resources.aclose()
            except Exception:
                logger.exception("Releasing a connection's resources failed")

    async def session_closed(self, event: dict[str, Any]) -> None:
        """``{"type": "session.closed", "code": …}``: the session was ended (4010), erased (4004) or its client
        tokens were rotated (4401) elsewhere."""
        if self.link is not None:
            await self.link.close(int(event["code"]))

    async def session_picture(self, event: dict[str, Any]) -> None:
        """``{"type": "session.picture", …}``: a checked picture the game backend posted over REST (any worker)."""
        if self.connection is not None:
            await self.connection.share(picture_of_event(event))

    async def session_game_state(self, event: dict[str, Any]) -> None:
        """``{"type": "session.game_state", "state": …}``: a game state posted over REST, already validated."""
        if self.connection is not None:
            await self.connection.report(validate_game_state(event["state"]))

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)

    async def _send_bytes(self, data: bytes) -> None:
        await self.send(bytes_data=data)

    async def _close_with(self, code: int) -> None:
        await self.close(code=code)
