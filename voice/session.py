"""A chat connection's realtime core: the conversation it continues, and the frames it decodes and routes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from voice import protocol
from voice.archive import UplinkArchive
from voice.conversation import ConversationContext, Mode, Reply, Speaker, Turn
from voice.limits import TIME_FOR_A_BREAK, ConnectionLimits, SpeakingBudget, TokenBucket
from voice.manners import check_reply
from voice.providers.base import TextBrain
from voice.redaction import redact

logger = logging.getLogger(__name__)

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
CloseConnection = Callable[[int], Awaitable[None]]
SendAudio = Callable[[bytes], Awaitable[None]]


class ConversationStore(Protocol):
    """How the core reads and writes one session's conversation; the Django app implements it."""

    async def recent_turns(self, limit: int) -> list[Turn]:
        """The newest ``limit`` stored turns, oldest first."""
        ...

    async def add_turn(
        self,
        speaker: Speaker,
        text: str,
        *,
        mode: Mode | None,
        model: str,
        spoken: bool = False,
        interrupted: bool = False,
        flags: Sequence[str] = (),
    ) -> None:
        """Store one turn: typed, or spoken (then ``text`` is its transcript), already redacted."""
        ...


class Conversation:
    """One session's conversation: what was said is stored, and the brain answers with the history before it."""

    def __init__(
        self, *, context: ConversationContext, store: ConversationStore, brain: TextBrain, history_turns: int = 40
    ) -> None:
        self.context = context
        self.brain = brain
        self._store = store
        self._history_turns = history_turns

    async def history(self) -> list[Turn]:
        """The newest stored turns a brain is given (``history_turns`` of them), oldest first."""
        return await self._store.recent_turns(self._history_turns)

    async def hear(self, text: str, *, spoken: bool) -> list[Turn]:
        """Store the child's turn (redacted); returns the history before it, for a brain to answer with."""
        history = await self.history()
        await self.store_child_turn(text, spoken=spoken)
        return history

    async def store_child_turn(self, text: str, *, spoken: bool) -> None:
        """Store the child's turn (redacted), when the answer comes from elsewhere (Live keeps its own context)."""
        await self._store.add_turn(Speaker.CHILD, redact(text), mode=None, model="", spoken=spoken)

    async def think(self, history: list[Turn], text: str) -> Reply:
        """The brain sees the child's words redacted, as they are stored.

        Raises:
            BrainError: no brain could answer.
        """
        return await self.brain.reply(self.context, history, redact(text))

    async def record_reply(self, text: str, reply: Reply, *, spoken: bool, interrupted: bool = False) -> None:
        """Store what the child actually received of the reply, with the output check's flags."""
        flags = check_reply(text, self.context.level.answers)
        if flags:
            logger.warning("Helper reply in session %s flagged: %s", self.context.session_id, ", ".join(flags))
        await self._store.add_turn(
            Speaker.ASSISTANT,
            redact(text),
            mode=reply.mode,
            model=reply.model,
            spoken=spoken,
            interrupted=interrupted,
            flags=flags,
        )

    async def answer(self, text: str) -> Reply:
        """A whole typed exchange; the child's turn is stored even when no brain can answer.

        Raises:
            BrainError: no brain could answer.
        """
        reply = await self.think(await self.hear(text, spoken=False), text)
        await self.record_reply(reply.text, reply, spoken=False)
        return reply


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
