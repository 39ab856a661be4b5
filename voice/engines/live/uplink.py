"""The live engine's uplink: the child's input, buffered while no upstream is attached and sent in order once one is."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import assert_never

from voice import protocol
from voice.engines.base import ClientInput, PictureShared, SendJson
from voice.engines.live.upstream import Upstream
from voice.game_state import as_context
from voice.gemini.events import UpstreamError
from voice.protocol import AudioEnd, AudioInput, GameStateInput, TextInput

logger = logging.getLogger(__name__)

MAX_BUFFERED_INPUTS = 1500  # 30 s of 20 ms frames, kept while the upstream is being replaced
MAX_AUDIO_BATCH_BYTES = 3200  # 100 ms of 16 kHz PCM16: the most audio queued frames are joined into


@dataclass(frozen=True)
class AskAgain:
    """Words the child said (already stored) that an upstream took but never answered: asked of the next one."""

    text: str


class _Wake:
    """Wakes the uplink when words to ask again were added while it waited for input."""


UplinkItem = ClientInput | AskAgain | _Wake
OnTyped = Callable[[str], Awaitable[None]]
OnAsked = Callable[[], None]


class Uplink:
    """Owns the input queue. Its task sends each input to the attached upstream; an input whose send fails is kept
    and sent to the next upstream. Frames queued behind each other go up joined (up to 100 ms), so a loop that fell
    behind catches up in fewer messages; frames that find no queue go at once, alone."""

    def __init__(self, *, send_json: SendJson, on_typed: OnTyped, on_asked: OnAsked) -> None:
        self._send_json = send_json
        self._on_typed = on_typed  # a typed message is about to go up: a new turn starts
        self._on_asked = on_asked  # a question is going up: a reply is due from now
        self._inputs: asyncio.Queue[UplinkItem] = asyncio.Queue(maxsize=MAX_BUFFERED_INPUTS)
        self._ask_again: collections.deque[AskAgain] = collections.deque()
        self._unsent: UplinkItem | None = None
        self._held: UplinkItem | None = None  # taken from the queue while joining audio; it goes next
        self._upstream: Upstream | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._dropping = False

    # --- what the engine puts in ---------------------------------------------------------------

    async def put(self, item: ClientInput) -> None:
        try:
            self._inputs.put_nowait(item)
            self._dropping = False
        except asyncio.QueueFull:
            if self._dropping:
                return  # one error per overflow, not one per frame
            self._dropping = True
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.RATE_LIMITED, "The helper is reconnecting and its buffer is full; input dropped."
                )
            )

    def ask_again(self, text: str) -> None:
        """Send ``text`` to the next upstream before anything newer (unless a typed message is already waiting)."""
        if isinstance(self._unsent, TextInput):
            return  # the typed message that is still unsent asks the next upstream anyway
        self._ask_again.append(AskAgain(text))
        if self._inputs.empty():
            self._inputs.put_nowait(_Wake())

    def words_to_ask_again(self) -> list[str]:
        return [item.text for item in self._ask_again]

    # --- attaching upstreams -------------------------------------------------------------------

    def attach(self, upstream: Upstream) -> None:
        self._upstream = upstream
        self._ready.set()

    async def detach(self) -> Upstream | None:
        """Stop sending (waiting for a send in progress to end) and return the upstream that was attached."""
        self._ready.clear()
        async with self._lock:
            upstream, self._upstream = self._upstream, None
        return upstream

    def drain(self) -> list[ClientInput]:
        """Everything not yet sent, in order (the words to ask again are dropped: their asker hands them over)."""
        pending: list[UplinkItem] = []
        self._ask_again.clear()
        for item in (self._unsent, self._held):
            if item is not None:
                pending.append(item)
        self._unsent = self._held = None
        while not self._inputs.empty():
            pending.append(self._inputs.get_nowait())
        return [
            item
            for item in pending
            if isinstance(item, TextInput | AudioInput | AudioEnd | PictureShared | GameStateInput)
        ]

    # --- the task ------------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            if self._unsent is None:
                item = await self._next()
                if isinstance(item, _Wake):
                    continue
                self._unsent = self._joined(item) if isinstance(item, AudioInput) else item
            await self._ready.wait()
            async with self._lock:
                upstream = self._upstream
                if upstream is None or not self._ready.is_set():
                    continue
                try:
                    await self._send(upstream, self._unsent)
                except UpstreamError as error:
                    # The downlink sees the broken connection too; this input waits for the next one.
                    logger.info(
                        "Live send failed (%s %s); input kept for the next connection", error.code, error.reason
                    )
                    self._ready.clear()
                    continue
            self._unsent = None

    async def _send(self, upstream: Upstream, item: UplinkItem) -> None:
        match item:
            case AudioInput(pcm=pcm):
                await upstream.send_audio(pcm)
            case AudioEnd():
                await upstream.send_audio_end()
            case TextInput(content=content):
                await self._on_typed(content)
                await upstream.send_text(content)
            case PictureShared(picture=picture):
                await upstream.send_image(picture)
            case GameStateInput(state=state):
                await upstream.send_context(as_context(state))
            case AskAgain(text=text):
                self._on_asked()
                await upstream.send_text(text)
            case _Wake():
                pass
            case _:
                assert_never(item)

    async def _next(self) -> UplinkItem:
        if self._ask_again:
            return self._ask_again.popleft()
        if self._held is not None:
            item, self._held = self._held, None
            return item
        return await self._inputs.get()

    def _joined(self, first: AudioInput) -> AudioInput:
        parts, size = [first.pcm], len(first.pcm)
        while size < MAX_AUDIO_BATCH_BYTES and self._held is None and not self._inputs.empty():
            item = self._inputs.get_nowait()
            if isinstance(item, AudioInput):
                parts.append(item.pcm)
                size += len(item.pcm)
            elif not isinstance(item, _Wake):
                self._held = item
        return first if len(parts) == 1 else AudioInput(b"".join(parts))
