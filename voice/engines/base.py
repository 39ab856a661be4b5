"""What every engine offers the connection that drives it, and the callbacks it sends to the client with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from voice.context import Mode

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
SendAudio = Callable[[bytes], Awaitable[None]]


class Engine(Protocol):
    """What runs a connection's turns (offline or text-mode speech, or Gemini Live)."""

    @property
    def mode(self) -> Mode: ...

    @property
    def model(self) -> str: ...

    def start(self) -> None:
        """Start the engine's tasks."""
        ...

    async def close(self) -> None:
        """Stop every task and keep what was already said; safe to call more than once."""
        ...

    async def text(self, content: str) -> None: ...

    async def audio(self, pcm: bytes) -> None:
        """A validated 16 kHz PCM16 frame from the microphone."""
        ...

    async def audio_end(self) -> None: ...
