"""A client connection's realtime core: decodes and limits frames, and owns the engine that answers them."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from voice import protocol
from voice.archive import UplinkArchive
from voice.engines.base import Engine, SendJson
from voice.limits import TIME_FOR_A_BREAK, ConnectionLimits, SpeakingBudget, TokenBucket

logger = logging.getLogger(__name__)

CloseConnection = Callable[[int], Awaitable[None]]


DEFAULT_LIMITS = ConnectionLimits()


class ChatConnection:
    """Decodes client frames; answers pings and bad frames itself, enforces the connection's limits, and
    hands the rest to the engine."""

    def __init__(
        self,
        *,
        engine: Engine,
        send_json: SendJson,
        close: CloseConnection | None = None,
        max_text_chars: int = protocol.DEFAULT_MAX_TEXT_CHARS,
        archive: UplinkArchive | None = None,
        limits: ConnectionLimits = DEFAULT_LIMITS,
        speaking_budget: SpeakingBudget | None = None,
    ) -> None:
        self.engine = engine
        self._send_json = send_json
        self._close = close
        self._max_text_chars = max_text_chars
        self._archive = archive
        self._limits = limits
        self._frames = TokenBucket(limits.frames_per_second, limits.burst_seconds)
        self._bytes = TokenBucket(limits.audio_bytes_per_second, limits.burst_seconds)
        self._flooding_since: float | None = None
        self._budget = speaking_budget
        self._unbilled_seconds = 0.0
        self.closed_with: int | None = None

    def start(self) -> None:
        self.engine.start()

    async def close(self) -> None:
        await self.engine.close()
        if self._archive is not None:
            await self._archive.close()

    async def _refuse(self, code: protocol.CloseCode, last_words: dict[str, Any] | None = None) -> None:
        if self.closed_with is not None:
            return
        self.closed_with = code
        if last_words is not None:
            await self._send_json(last_words)
        if self._close is not None:
            await self._close(code)

    async def _within_rate(self, size: int) -> bool:
        """False when the frame breaks the rate limits: it is dropped, and a sustained flood closes with 4029."""
        if self._frames.take() and self._bytes.take(size):
            self._flooding_since = None
            return True
        now = time.monotonic()
        if self._flooding_since is None:
            self._flooding_since = now
            await self._send_json(
                protocol.error_message(protocol.ErrorCode.RATE_LIMITED, "Too many frames: some were dropped.")
            )
        elif now - self._flooding_since >= self._limits.flood_seconds:
            await self._refuse(protocol.CloseCode.LIMIT_REACHED)
        return False

    async def receive_text(self, raw: str) -> None:
        if self.closed_with is not None:
            return
        if len(raw) > self._limits.max_text_frame_bytes:
            await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)
            return
        if not await self._within_rate(0):
            return
        try:
            message = protocol.decode_client_message(raw, max_text_chars=self._max_text_chars)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        match message:
            case protocol.Ping():
                await self._send_json(protocol.pong_message())
            case protocol.TextInput(content=content):
                await self.engine.text(content)
            case protocol.AudioInput(pcm=pcm):
                await self._audio(pcm)
            case protocol.AudioEnd():
                await self.engine.audio_end()

    async def receive_bytes(self, data: bytes) -> None:
        if self.closed_with is not None:
            return
        if len(data) > protocol.MAX_AUDIO_FRAME_BYTES:
            await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)
            return
        if not await self._within_rate(len(data)):
            return
        try:
            pcm = protocol.validate_pcm_frame(data)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        await self._audio(pcm)

    async def _audio(self, pcm: bytes) -> None:
        if self._budget is not None:
            self._unbilled_seconds += len(pcm) / (2 * protocol.INPUT_SAMPLE_RATE_HZ)
            if self._unbilled_seconds >= self._limits.billing_seconds:
                seconds, self._unbilled_seconds = self._unbilled_seconds, 0.0
                if not await self._budget.spend(seconds):
                    await self._refuse(protocol.CloseCode.LIMIT_REACHED, protocol.response_message(TIME_FOR_A_BREAK))
                    return
        if self._archive is not None:
            self._archive.add(pcm)
        await self.engine.audio(pcm)
