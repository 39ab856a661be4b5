"""One session's conversation: the turns it stores (through a store the app implements) and the brain that answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from voice.brains.base import TextBrain
from voice.context import ConversationContext, Mode, Reply, Speaker, Turn
from voice.manners import check_reply
from voice.redaction import redact

logger = logging.getLogger(__name__)

TurnId = int  # the store's key of a stored turn


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
    ) -> TurnId:
        """Store one turn: typed, or spoken (then ``text`` is its transcript), already redacted; returns its id."""
        ...


@dataclass(frozen=True)
class Exchange:
    """A typed exchange as stored: the child's turn, the helper's reply, and the reply itself."""

    child_turn: TurnId
    reply_turn: TurnId
    reply: Reply


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

    async def store_child_turn(self, text: str, *, spoken: bool) -> TurnId:
        """Store the child's turn (redacted), when the answer comes from elsewhere (Live keeps its own context)."""
        return await self._store.add_turn(Speaker.CHILD, redact(text), mode=None, model="", spoken=spoken)

    async def think(self, history: list[Turn], text: str) -> Reply:
        """The brain sees the child's words redacted, as they are stored.

        Raises:
            BrainError: no brain could answer.
        """
        return await self.brain.reply(self.context, history, redact(text))

    async def record_reply(self, text: str, reply: Reply, *, spoken: bool, interrupted: bool = False) -> TurnId:
        """Store what the child actually received of the reply, with the output check's flags."""
        flags = check_reply(text, self.context.level.answers)
        if flags:
            logger.warning("Helper reply in session %s flagged: %s", self.context.session_id, ", ".join(flags))
        return await self._store.add_turn(
            Speaker.ASSISTANT,
            redact(text),
            mode=reply.mode,
            model=reply.model,
            spoken=spoken,
            interrupted=interrupted,
            flags=flags,
        )

    async def answer(self, text: str) -> Exchange:
        """A whole typed exchange; the child's turn is stored even when no brain can answer.

        Raises:
            BrainError: no brain could answer.
        """
        history = await self.history()
        child_turn = await self.store_child_turn(text, spoken=False)
        reply = await self.think(history, text)
        reply_turn = await self.record_reply(reply.text, reply, spoken=False)
        return Exchange(child_turn=child_turn, reply_turn=reply_turn, reply=reply)
