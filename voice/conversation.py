"""One session's conversation: the turns it stores (through a store the app implements) and the brain that answers."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from voice.brains.base import TextBrain
from voice.context import ConversationContext, GameState, Mode, Picture, Reply, Speaker, Turn
from voice.game_state import as_json
from voice.hint_tool import GET_HINT, HintCall, HintLadders
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

    async def add_tool_turn(self, name: str, arguments: Mapping[str, Any], result: Mapping[str, Any]) -> TurnId:
        """Store a function the model called and the service's answer (a tool turn: neither side's speech)."""
        ...

    async def save_game_state(self, state: Mapping[str, Any]) -> None:
        """Keep the game's newest state (plain JSON data) with the session."""
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
        self.game_state: GameState | None = context.game_state
        self.hint_ladders = HintLadders()
        self._picture: Picture | None = None

    def share_picture(self, picture: Picture) -> None:
        """A picture the game shared: the next brain request sees it (the newest one, once)."""
        self._picture = picture

    @property
    def picture_pending(self) -> bool:
        return self._picture is not None

    async def report_game_state(self, state: GameState) -> None:
        """The game's newest state: kept here for the next answers, and with the session."""
        self.game_state = state
        await self._store.save_game_state(as_json(state))

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a function the model called, and store the call and the answer as a tool turn."""
        if name == GET_HINT:
            call = HintCall.from_arguments(arguments)
            result = self.hint_ladders.answer(call, self.context.level, self.game_state)
            stored_arguments: Mapping[str, Any] = call.as_arguments()
        else:
            result = {"error": f"There is no function called {name!r}."}
            stored_arguments = {}
        await self._store.add_tool_turn(name, stored_arguments, result)
        return result

    def _brain_context(self) -> ConversationContext:
        """The context for one brain request: the newest game state, the picture shared since the last answer
        (then forgotten: it is shown once), and the functions the brain may call."""
        picture, self._picture = self._picture, None
        return dataclasses.replace(self.context, game_state=self.game_state, picture=picture, tools=self.call_tool)

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
        return await self.brain.reply(self._brain_context(), history, redact(text))

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
