"""The live engine's turns: what each side said, as the client received it, stored once each."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from voice import metrics, protocol
from voice.context import Mode, Reply
from voice.conversation import Conversation
from voice.engines.base import SendJson


@dataclass
class LiveTurn:
    """The turn in progress: what each side said so far, as the client received it."""

    child: list[str] = field(default_factory=list)
    helper: list[str] = field(default_factory=list)
    typed: bool = False
    child_stored: bool = False
    interrupted: bool = False
    active: bool = False  # the helper is answering
    due_since: float | None = None  # when the child's turn ended (typed, or first transcribed), for latency

    @property
    def child_text(self) -> str:
        return "".join(self.child).strip()

    @property
    def helper_text(self) -> str:
        return "".join(self.helper).strip()


class TurnRecorder:
    """Keeps the current turn, tells the client about each side's words, and stores every turn exactly once."""

    def __init__(self, *, conversation: Conversation, send_json: SendJson) -> None:
        self._conversation = conversation
        self._send_json = send_json
        self.turn = LiveTurn()

    def between_turns(self) -> bool:
        """No reply is being given, and none is owed: the moment to move to another upstream."""
        return not self.turn.active and not self.turn.child_text

    async def typed(self, text: str) -> None:
        """A typed message goes up: it starts a new turn, stored at once."""
        await self.store_unfinished()
        self.turn = LiveTurn(child=[text], typed=True, child_stored=True, due_since=time.monotonic())
        await self._conversation.store_child_turn(text, spoken=False)

    async def child_heard(self, text: str) -> None:
        """More of the child's transcript; speaking after the helper's words starts a new turn."""
        if self.turn.typed or self.turn.helper:
            await self.store_unfinished()
            self.turn = LiveTurn()
        self.turn.child.append(text)
        self.turn.due_since = self.turn.due_since or time.monotonic()
        await self._send_json(protocol.input_transcript_message(self.turn.child_text, final=False))

    async def helper_audio(self) -> None:
        """The first reply audio ends the child's turn."""
        turn = self.turn
        if not turn.active and turn.due_since is not None:
            metrics.REPLY_LATENCY.labels(Mode.LIVE.value).observe(time.monotonic() - turn.due_since)
        turn.active = True
        await self._store_child_turn(turn, announce=True)

    async def before_tool_call(self) -> None:
        """The model calls a function about what the child said: that is stored first."""
        await self._store_child_turn(self.turn, announce=True)

    async def helper_said(self, text: str) -> None:
        self.turn.active = True
        await self._store_child_turn(self.turn, announce=True)
        self.turn.helper.append(text)
        await self._send_json(protocol.output_transcript_message(text))

    async def interrupted(self) -> None:
        self.turn.interrupted = True
        await self._send_json(protocol.interrupted_message())

    async def finish(self, model: str) -> None:
        """The upstream completed the turn: store the reply, and tell the client."""
        turn = self.turn
        await self._store_child_turn(turn, announce=True)
        if turn.helper_text or turn.interrupted:
            await self._record_helper(turn, model)
        if turn.typed and turn.helper_text:
            await self._send_json(protocol.response_message(turn.helper_text))
        await self._send_json(protocol.turn_complete_message(interrupted=turn.interrupted))
        metrics.TURNS.labels(Mode.LIVE.value, str(turn.interrupted).lower()).inc()
        if self.turn is turn:  # the child may have typed a new turn meanwhile
            self.turn = LiveTurn()

    async def store_unfinished(self, model: str = "") -> None:
        """Keep what was said in a turn that will not complete (the client left, or the upstream broke)."""
        turn, self.turn = self.turn, LiveTurn()
        await self._store_child_turn(turn, announce=False)
        if turn.helper_text:
            turn.interrupted = True
            await self._record_helper(turn, model)

    async def cut(self, model: str) -> None:
        """The upstream is gone mid-reply: tell the client to flush, and keep what was heard."""
        if self.turn.active:
            await self._send_json(protocol.interrupted_message())
            await self.store_unfinished(model)
            await self._send_json(protocol.turn_complete_message(interrupted=True))

    def unanswered(self) -> LiveTurn | None:
        """The child's turn that no reply has started for, if any."""
        turn = self.turn
        return turn if not turn.active and turn.child_text else None

    def take_unanswered(self) -> LiveTurn | None:
        """The unanswered turn, now another engine's to answer; the turn starts afresh."""
        unanswered, self.turn = self.unanswered(), LiveTurn()
        return unanswered

    def keep_only_child(self) -> None:
        """The upstream that took the child's words is gone: the turn restarts with just those words."""
        turn = self.turn
        self.turn = LiveTurn(child=[turn.child_text], typed=turn.typed, child_stored=turn.child_stored)

    async def _store_child_turn(self, turn: LiveTurn, *, announce: bool) -> None:
        if not turn.child_stored and turn.child_text:
            turn.child_stored = True
            if announce:
                await self._send_json(protocol.input_transcript_message(turn.child_text, final=True))
            await self._conversation.store_child_turn(turn.child_text, spoken=True)

    async def _record_helper(self, turn: LiveTurn, model: str) -> None:
        reply = Reply(text=turn.helper_text, mode=Mode.LIVE, model=model)
        await self._conversation.record_reply(turn.helper_text, reply, spoken=True, interrupted=turn.interrupted)
