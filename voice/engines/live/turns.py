"""The live engine's turns: what each side said, as the client heard it, stored once each."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from voice import metrics, protocol
from voice.audio_format import BYTES_PER_SAMPLE
from voice.context import Mode, Reply
from voice.conversation import Conversation
from voice.engines.base import SendJson
from voice.engines.live.playback import PlaybackClock
from voice.write_behind import WriteBehind


@dataclass
class LiveTurn:
    """The turn in progress: what each side said so far, as the client received it."""

    child: list[str] = field(default_factory=list)
    helper: list[str] = field(default_factory=list)
    helper_offsets: list[int] = field(default_factory=list)  # reply samples sent when each helper piece came
    typed: bool = False
    responded: bool = False  # a typed turn's reply text went to the client
    child_stored: bool = False
    interrupted: bool = False
    muted: bool = False  # cut off: the rest of this reply is not forwarded
    heard_samples: int | None = None  # where the child stopped hearing the reply, when it was cut off
    active: bool = False  # the helper is answering
    due_since: float | None = None  # when the child's turn ended (typed, or first transcribed), for latency
    model: str = ""  # set once the upstream completed the turn

    @property
    def child_text(self) -> str:
        return "".join(self.child).strip()

    @property
    def helper_text(self) -> str:
        """What the helper said, up to where the child stopped hearing it."""
        if self.heard_samples is None:
            return "".join(self.helper).strip()
        heard = self.heard_samples
        return "".join(text for text, at in zip(self.helper, self.helper_offsets, strict=True) if at <= heard).strip()


class TurnRecorder:
    """Keeps the current turn, tells the client about each side's words, and stores every turn exactly once.

    A reply the upstream completed while the client still plays it is held (``playing_out``) until it has been
    played, or until the child cuts in: then it is stored cut to what was heard. Turns are stored through
    ``writes``: the audio and captions that follow never wait for the database.
    """

    def __init__(
        self, *, conversation: Conversation, send_json: SendJson, clock: PlaybackClock, writes: WriteBehind
    ) -> None:
        self._conversation = conversation
        self._writes = writes
        self._send_json = send_json
        self._clock = clock
        self.turn = LiveTurn()
        self.playing_out: LiveTurn | None = None

    def between_turns(self) -> bool:
        """No reply is being given, and none is owed: the moment to move to another upstream."""
        return not self.turn.active and not self.turn.child_text

    def audible(self) -> bool:
        """A reply the child could still be hearing, and that was not cut off yet."""
        return self.playing_out is not None or (self.turn.active and not self.turn.muted)

    async def typed(self, text: str) -> None:
        """A typed message goes up: it starts a new turn, stored at once."""
        await self.settle_played()
        await self.store_unfinished()
        self.turn = LiveTurn(child=[text], typed=True, child_stored=True, due_since=time.monotonic())
        self._writes.submit(functools.partial(self._conversation.store_child_turn, text, spoken=False))
        # Stored before it goes up (no audio waits here): a worker killed while answering loses no typed question.
        await self._writes.drained()

    async def child_heard(self, text: str) -> None:
        """More of the child's transcript; speaking after the helper's words starts a new turn."""
        await self.settle_played()
        if self.turn.typed or self.turn.helper:
            await self.store_unfinished()
            self.turn = LiveTurn()
        self.turn.child.append(text)
        self.turn.due_since = self.turn.due_since or time.monotonic()
        await self._send_json(protocol.input_transcript_message(self.turn.child_text, final=False))

    async def helper_audio(self, pcm: bytes) -> bool:
        """Reply audio came: False when it must not reach the client (the reply was cut off). The first audio
        ends the child's turn."""
        turn = self.turn
        if turn.muted:
            return False
        if not turn.active:
            # A new reply: one held before it has been sent whole and plays first; it is complete now.
            await self.settle_played(force=True)
            if turn.due_since is not None:
                metrics.REPLY_LATENCY.labels(Mode.LIVE.value).observe(time.monotonic() - turn.due_since)
            self._clock.start_reply()
        turn.active = True
        await self._store_child_turn(turn, announce=True)
        self._clock.sent(len(pcm) // BYTES_PER_SAMPLE)
        return True

    async def before_tool_call(self) -> None:
        """The model calls a function about what the child said: that is stored first."""
        await self._store_child_turn(self.turn, announce=True)

    async def helper_said(self, text: str) -> None:
        turn = self.turn
        if turn.muted:
            return  # said after the child cut in: never heard
        if not turn.active:
            await self.settle_played(force=True)
        turn.active = True
        await self._store_child_turn(turn, announce=True)
        turn.helper.append(text)
        turn.helper_offsets.append(self._clock.reply_sent())
        await self._send_json(protocol.output_transcript_message(text))

    async def interrupted(self) -> None:
        """The upstream says the reply was interrupted; the client hears of it once, whoever noticed first."""
        turn = self.turn
        if turn.interrupted:
            return
        self._cut_off(turn, self._clock.flush() if turn.active else 0)
        await self._send_json(protocol.interrupted_message(played_samples=turn.heard_samples))

    async def barge_in(self) -> bool:
        """The child speaks over a reply it is hearing: flush the client and cut the reply where it was.

        A reply the upstream already completed is stored now; one still coming is muted and stored when the
        upstream ends it. False when there was nothing to cut.
        """
        held = self.playing_out
        turn = held if held is not None else self.turn
        if turn.interrupted or not (held is not None or turn.active):
            return False
        self._cut_off(turn, self._clock.flush())
        metrics.BARGE_INS.inc()
        await self._send_json(protocol.interrupted_message(played_samples=turn.heard_samples))
        if held is not None:
            self.playing_out = None
            await self._complete(held, held.model)
        return True

    async def finish(self, model: str) -> None:
        """The upstream completed the turn: store the reply and tell the client, or hold it while it plays."""
        turn = self.turn
        if turn.active and not turn.interrupted and self._clock.playing():
            await self.settle_played(force=True)
            turn.model = model
            self.playing_out, self.turn = turn, LiveTurn()
            await self._store_child_turn(turn, announce=True)
            await self._respond(turn)  # the text need not wait for the voice
            return
        await self._complete(turn, model)
        if self.turn is turn:  # the child may have typed a new turn meanwhile
            self.turn = LiveTurn()

    async def settle_played(self, *, force: bool = False) -> None:
        """Store the held reply once the client has played it (or at once with ``force``: a newer turn starts)."""
        held = self.playing_out
        if held is not None and (force or not self._clock.playing()):
            self.playing_out = None
            await self._complete(held, held.model)

    async def _complete(self, turn: LiveTurn, model: str) -> None:
        await self._store_child_turn(turn, announce=True)
        if turn.helper_text or turn.interrupted:
            self._record_helper(turn, model)
        await self._respond(turn)
        await self._send_json(protocol.turn_complete_message(interrupted=turn.interrupted))
        metrics.TURNS.labels(Mode.LIVE.value, str(turn.interrupted).lower()).inc()

    async def _respond(self, turn: LiveTurn) -> None:
        """A typed turn's reply as text, once."""
        if turn.typed and not turn.responded and turn.helper_text:
            turn.responded = True
            await self._send_json(protocol.response_message(turn.helper_text))

    @staticmethod
    def _cut_off(turn: LiveTurn, played_samples: int) -> None:
        turn.interrupted = True
        turn.muted = True
        turn.heard_samples = played_samples

    async def store_unfinished(self, model: str = "") -> None:
        """Keep what was said in a turn that will not complete (the client left, or the upstream broke)."""
        await self.settle_played(force=True)
        turn, self.turn = self.turn, LiveTurn()
        await self._store_child_turn(turn, announce=False)
        if turn.helper_text:
            turn.interrupted = True
            self._record_helper(turn, model)

    async def cut(self, model: str) -> None:
        """The upstream is gone mid-reply: tell the client to flush, and keep what was heard."""
        if self.turn.active:
            position = self._clock.flush()
            if not self.turn.interrupted:
                await self._send_json(protocol.interrupted_message(played_samples=position))
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
            self._writes.submit(functools.partial(self._conversation.store_child_turn, turn.child_text, spoken=True))

    def _record_helper(self, turn: LiveTurn, model: str) -> None:
        reply = Reply(text=turn.helper_text, mode=Mode.LIVE, model=model)
        self._writes.submit(
            functools.partial(
                self._conversation.record_reply, turn.helper_text, reply, spoken=True, interrupted=turn.interrupted
            )
        )
