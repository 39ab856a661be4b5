"""A chat connection's realtime core: the conversation it continues, and the frames it decodes and routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from voice import protocol
from voice.archive import UplinkArchive
from voice.conversation import ConversationContext, Mode, Reply, Speaker, Turn
from voice.providers.base import TextBrain

logger = logging.getLogger(__name__)

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
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
    ) -> None:
        """Store one turn: typed, or spoken (then ``text`` is its transcript)."""
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

    async def recent_turns(self, limit: int) -> list[Turn]:
        return await self._store.recent_turns(limit)

    async def hear(self, text: str, *, spoken: bool) -> list[Turn]:
        """Store the child's turn; returns the history before it."""
        history = await self._store.recent_turns(self._history_turns)
        await self._store.add_turn(Speaker.CHILD, text, mode=None, model="", spoken=spoken)
        return history

    async def think(self, history: list[Turn], text: str) -> Reply:
        """Raises:
        BrainError: no brain could answer.
        """
        return await self.brain.reply(self.context, history, text)

    async def record_reply(self, text: str, reply: Reply, *, spoken: bool, interrupted: bool = False) -> None:
        """Store what the child actually received of the reply."""
        await self._store.add_turn(
            Speaker.ASSISTANT, text, mode=reply.mode, model=reply.model, spoken=spoken, interrupted=interrupted
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


class ChatConnection:
    """Decodes client frames; answers pings and bad frames itself, and hands the rest to the engine."""

    def __init__(
        self,
        *,
        engine: Engine,
        send_json: SendJson,
        max_text_chars: int = protocol.DEFAULT_MAX_TEXT_CHARS,
        archive: UplinkArchive | None = None,
    ) -> None:
        self.engine = engine
        self._send_json = send_json
        self._max_text_chars = max_text_chars
        self._archive = archive

    def start(self) -> None:
        self.engine.start()

    async def close(self) -> None:
        await self.engine.close()
        if self._archive is not None:
            await self._archive.close()

    async def receive_text(self, raw: str) -> None:
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
        try:
            pcm = protocol.validate_pcm_frame(data)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        await self._audio(pcm)

    async def _audio(self, pcm: bytes) -> None:
        if self._archive is not None:
            self._archive.add(pcm)
        await self.engine.audio(pcm)
