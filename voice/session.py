"""A chat connection's realtime core: decodes client frames, runs turns in a task it owns, and stores every turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from voice import protocol
from voice.conversation import ConversationContext, Mode, Reply, Speaker, Turn
from voice.providers.base import BrainError, TextBrain

logger = logging.getLogger(__name__)

MAX_QUEUED_TEXT_TURNS = 8
SendJson = Callable[[dict[str, Any]], Awaitable[None]]


class ConversationStore(Protocol):
    """How the core reads and writes one session's conversation; the Django app implements it."""

    async def recent_turns(self, limit: int) -> list[Turn]:
        """The newest ``limit`` stored turns, oldest first."""
        ...

    async def add_turn(self, speaker: Speaker, text: str, *, mode: Mode | None, model: str) -> None:
        """Store one typed turn."""
        ...


class TextConversation:
    """One session's typed conversation: store the child's words, ask the brain, store and return the reply."""

    def __init__(
        self, *, context: ConversationContext, store: ConversationStore, brain: TextBrain, history_turns: int = 40
    ) -> None:
        self.context = context
        self._store = store
        self._brain = brain
        self._history_turns = history_turns

    @property
    def brain(self) -> TextBrain:
        return self._brain

    async def answer(self, text: str) -> Reply:
        """Answer one child message; the child's turn is stored even when no brain can answer.

        Raises:
            BrainError: no brain could answer.
        """
        history = await self._store.recent_turns(self._history_turns)
        await self._store.add_turn(Speaker.CHILD, text, mode=None, model="")
        reply = await self._brain.reply(self.context, history, text)
        await self._store.add_turn(Speaker.ASSISTANT, reply.text, mode=reply.mode, model=reply.model)
        return reply


class ChatConnection:
    """The realtime side of one WebSocket: it owns one task that answers queued typed turns in order.

    Control frames (``ping``) are answered at once, so a slow brain never delays them.
    """

    def __init__(
        self,
        *,
        conversation: TextConversation,
        send_json: SendJson,
        max_text_chars: int = protocol.DEFAULT_MAX_TEXT_CHARS,
    ) -> None:
        self._conversation = conversation
        self._send_json = send_json
        self._max_text_chars = max_text_chars
        self._turns: asyncio.Queue[str] = asyncio.Queue(maxsize=MAX_QUEUED_TEXT_TURNS)
        self._replier: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._replier is None:
            self._replier = asyncio.create_task(
                self._answer_turns(), name=f"replies:{self._conversation.context.session_id}"
            )

    async def close(self) -> None:
        """Stop the reply task; safe to call more than once. A turn still being answered is abandoned."""
        task, self._replier = self._replier, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
                await self._queue_turn(content)
            case protocol.AudioInput() | protocol.AudioEnd():
                await self._audio_unsupported()

    async def receive_bytes(self, data: bytes) -> None:
        try:
            protocol.validate_pcm_frame(data)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        await self._audio_unsupported()

    async def _audio_unsupported(self) -> None:
        await self._send_json(
            protocol.error_message(
                protocol.ErrorCode.AUDIO_UNSUPPORTED, "This connection answers typed messages only; audio was ignored."
            )
        )

    async def _queue_turn(self, content: str) -> None:
        try:
            self._turns.put_nowait(content)
        except asyncio.QueueFull:
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.INVALID_FIELD, "Too many messages waiting for an answer; wait for the reply."
                )
            )

    async def _answer_turns(self) -> None:
        while True:
            content = await self._turns.get()
            try:
                reply = await self._conversation.answer(content)
            except Exception as error:  # the task must outlive one failed turn, or later turns go unanswered
                if isinstance(error, BrainError):
                    logger.warning("No brain could answer in session %s", self._conversation.context.session_id)
                else:
                    logger.exception("Turn failed in session %s", self._conversation.context.session_id)
                await self._send_json(
                    protocol.error_message(
                        protocol.ErrorCode.HELPER_UNAVAILABLE, "The helper cannot answer right now. Please try again."
                    )
                )
                continue
            await self._send_json(protocol.response_message(reply.text))
