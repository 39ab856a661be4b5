"""What the emulator received on each connection, for tests and benchmarks to read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConnectionRecord:
    """Everything one connection sent, in order, with arrival times (``time.monotonic()``)."""

    number: int
    path: str
    api_version: str
    setup: dict[str, Any] = field(default_factory=dict)
    resumed_handle: str = ""
    audio: bytearray = field(default_factory=bytearray)
    audio_arrivals: list[tuple[float, int]] = field(default_factory=list)
    client_content: list[dict[str, Any]] = field(default_factory=list)
    realtime_text: list[str] = field(default_factory=list)
    activity: list[str] = field(default_factory=list)
    tool_responses: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # what the emulated model called
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (MIME type, data) of realtime image input
    turns: list[dict[str, str]] = field(default_factory=list)
    sent_chunks: list[tuple[float, int]] = field(default_factory=list)
    reply_starts: list[int] = field(default_factory=list)  # the index in sent_chunks of each reply's first chunk
    closed_with: tuple[int, str] | None = None  # when the emulator closed the connection
    opened_at: float = field(default_factory=time.monotonic)
    ended_at: float | None = None  # when the connection ended, whichever side closed it
    bytes_received: int = 0  # WebSocket message payloads, as they came over the wire
    bytes_sent: int = 0

    def add_audio(self, pcm: bytes) -> None:
        self.audio.extend(pcm)
        self.audio_arrivals.append((time.monotonic(), len(pcm)))

    @property
    def model(self) -> str:
        return str(self.setup.get("model", ""))

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly digest (the control endpoint returns these)."""
        return {
            "number": self.number,
            "path": self.path,
            "model": self.model,
            "resumed_handle": self.resumed_handle,
            "audio_bytes": len(self.audio),
            "audio_chunks": len(self.audio_arrivals),
            "client_content": self.client_content,
            "realtime_text": self.realtime_text,
            "images": [{"mime_type": mime, "bytes": len(data)} for mime, data in self.images],
            "tool_calls": self.tool_calls,
            "tool_responses": self.tool_responses,
            "activity": self.activity,
            "turns": self.turns,
            "closed_with": self.closed_with,
        }
