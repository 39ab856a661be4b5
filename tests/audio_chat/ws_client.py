"""A game client for WebSocket tests: sends frames, and records everything the server sends, in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from audio_chat.models import ChatSession
from audio_chat.tokens import issue_client_token
from config.asgi import application


@dataclass
class RecordingClient:
    ws: WebsocketCommunicator
    events: list[tuple[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.monotonic() of each event, in step with ``events``
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        while True:
            output = await self.ws.receive_output(timeout=60)
            self.arrived.append(time.monotonic())
            if output["type"] == "websocket.close":
                self.events.append(("close", output.get("code")))
                return
            if output.get("bytes") is not None:
                self.events.append(("audio", output["bytes"]))
            else:
                self.events.append(("json", json.loads(output["text"])))
            self.changed.set()

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for t, m in self.events if t == "json" and (kind is None or m["type"] == kind)]

    def audio(self) -> bytes:
        return b"".join(m for t, m in self.events if t == "audio")

    async def until(self, predicate: Callable[[], Any], limit_seconds: float = 15.0) -> None:
        """Wait until ``predicate()`` holds: checked on every server message, and every 50 ms."""

        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.05)

        await asyncio.wait_for(wait(), limit_seconds)

    async def speak(self, pcm: bytes, pace: float = 0.0) -> None:
        """Send PCM in 20 ms frames; ``pace`` seconds between frames (0: as fast as possible)."""
        for start in range(0, len(pcm), 640):
            await self.ws.send_to(bytes_data=pcm[start : start + 640])
            if pace:
                await asyncio.sleep(pace)

    async def leave(self) -> None:
        await self.ws.disconnect(timeout=10)
        if self.task is not None:
            self.task.cancel()


async def connect_client(session: ChatSession, query: str = "") -> RecordingClient:
    """``query`` is added to the URL (``&codec=opus``)."""
    token, _ = await database_sync_to_async(issue_client_token)(str(session.id), session.client_token_version)
    ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session.id}/?token={token}{query}")
    connected, _ = await ws.connect(timeout=10)
    assert connected
    client = RecordingClient(ws)
    client.task = asyncio.create_task(client.read())
    await client.until(lambda: client.messages("connection"))
    return client
