"""What the live engine needs of a Live upstream and of the store that keeps its resumption handle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from voice.context import Picture, Turn
from voice.gemini.events import LiveEvent


class Upstream(Protocol):
    """One open Live session (implemented by ``voice.gemini.sdk.LiveUpstream``)."""

    model: str

    async def send_audio(self, pcm: bytes) -> None: ...
    async def send_audio_end(self) -> None: ...
    async def send_text(self, text: str) -> None: ...
    async def send_image(self, picture: Picture) -> None: ...
    async def send_context(self, text: str) -> None: ...
    async def send_tool_response(self, call_id: str, name: str, result: dict[str, Any]) -> None: ...
    async def seed(self, history: Sequence[Turn]) -> None: ...
    def expire_stalled_send(self, now: float) -> bool:
        """Make an audio send stuck past its time limit raise (called at least every few hundred ms)."""
        ...

    def events(self) -> AsyncIterator[LiveEvent]: ...
    async def close(self) -> None: ...


OpenUpstream = Callable[[str, str], Awaitable[Upstream]]  # (model, resumption handle) → an open upstream


class ResumptionStore(Protocol):
    """Where the newest resumption handle lives, so that any worker can resume the upstream session."""

    async def load_resumption(self) -> tuple[str, str]:
        """``(model, handle)``; empty strings when there is none, or it is too old to use."""
        ...

    async def save_resumption(self, model: str, handle: str) -> None: ...

    async def add_usage(self, usage: dict[str, int]) -> None: ...
