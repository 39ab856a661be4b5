"""The live engine: relays a client to Gemini Live, and keeps one conversation across upstream limits and failures.

Three tasks per connection: the uplink (``uplink.py``) sends the child's input to the current upstream; the store
writer (``voice/write_behind.py``) makes the writes, so that audio never waits for the database; and the downlink,
this module, connects (``connector.py``), relays events to the client while ``turns.py`` keeps the turns, switches
over on ``goAway``, reconnects after failures, and hands the conversation to the fallback engine (text mode) when
Live cannot be had.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from voice import metrics, protocol
from voice.context import GameState, Mode, Picture, Turn
from voice.conversation import Conversation
from voice.engines.base import ClientInput, Engine, Handover, PictureShared, SendAudio, SendJson, feed
from voice.engines.live.bargein import DEFAULT_BARGE_IN, BargeInDetector, BargeInSettings
from voice.engines.live.connector import Connector, LiveUnavailable
from voice.engines.live.playback import PlaybackClock
from voice.engines.live.turns import TurnRecorder
from voice.engines.live.uplink import Uplink
from voice.engines.live.upstream import OpenUpstream, ResumptionStore, Upstream
from voice.game_state import as_context
from voice.gemini.events import (
    AudioOut,
    GenerationComplete,
    GoAway,
    InputTranscript,
    Interrupted,
    LiveEvent,
    OutputTranscript,
    ResumptionHandle,
    ToolCall,
    ToolCallCancelled,
    TurnComplete,
    UpstreamError,
    UpstreamRefused,
)
from voice.gemini.roster import ModelRoster
from voice.protocol import AudioEnd, AudioInput, GameStateInput, TextInput
from voice.tasks import cancel_and_wait
from voice.write_behind import WriteBehind

logger = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 3
BACKOFF_SECONDS = (0.2, 0.5, 1.0)
SWITCH_MARGIN_SECONDS = 1.0  # switch over this long before goAway's deadline at the latest
POLL_SECONDS = 0.25  # how often deadlines (goAway switch, stalled reply) are checked while no event comes


class _SwitchOver(Exception):
    """Time to move to a fresh connection (goAway), resuming the same session."""


@dataclass(frozen=True)
class LiveTimeouts:
    stall_seconds: float = 15.0  # no upstream event this long while a reply is due → reconnect


DEFAULT_TIMEOUTS = LiveTimeouts()


class LiveChat:
    """A connection's engine in live mode; see the module docstring."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        open_upstream: OpenUpstream,
        roster: ModelRoster,
        resumption: ResumptionStore,
        send_json: SendJson,
        send_audio: SendAudio,
        fallback: Callable[[], Engine],
        timeouts: LiveTimeouts = DEFAULT_TIMEOUTS,
        barge_in: BargeInSettings = DEFAULT_BARGE_IN,
    ) -> None:
        self._conversation = conversation
        self._session_id = conversation.context.session_id
        self._connector = Connector(
            open_upstream=open_upstream, roster=roster, resumption=resumption, session_id=self._session_id
        )
        self._resumption = resumption
        self._send_json = send_json
        self._send_audio = send_audio
        self._make_fallback = fallback
        self._timeouts = timeouts
        self._clock = PlaybackClock()
        self._barge_in = BargeInDetector(barge_in)
        self._writes = WriteBehind()
        self._turns = TurnRecorder(
            conversation=conversation, send_json=send_json, clock=self._clock, writes=self._writes
        )
        self._uplink = Uplink(send_json=send_json, on_typed=self._typed_turn, on_asked=self._reply_due)
        self._upstream: Upstream | None = None
        self._fallback: Engine | None = None
        self._reply_due_since: float | None = None
        self._turn_succeeded = False

    # --- Engine ----------------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._fallback.mode if self._fallback is not None else Mode.LIVE

    @property
    def model(self) -> str:
        if self._fallback is not None:
            return self._fallback.model
        if self._upstream is not None:
            return self._upstream.model
        return self._connector.preferred_model

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            uplink = tasks.create_task(self._uplink.run(), name=f"live-up:{self._session_id}")
            writer = tasks.create_task(self._writes.run(), name=f"live-store:{self._session_id}")
            reason = await self._supervise()
            uplink.cancel()
            await self._writes.drained()  # a write cut off halfway could be lost
            writer.cancel()
        fallback = await self._fall_back(reason)
        await fallback.run()

    async def close(self) -> None:
        try:
            await self._turns.store_unfinished(self.model)
            await self._writes.flush()
        finally:
            try:
                await self._detach_upstream()
            finally:
                if self._fallback is not None:
                    await self._fallback.close()

    async def take_over(self, handover: Handover) -> None:
        if handover.stored_words:
            self._uplink.ask_again(handover.stored_words)
        for item in handover.inputs:
            await self._uplink.put(item)

    async def text(self, content: str) -> None:
        if self._fallback is not None:
            await self._fallback.text(content)
        else:
            await self._uplink.put(TextInput(content))

    async def audio(self, pcm: bytes) -> None:
        if self._fallback is not None:
            await self._fallback.audio(pcm)
            return
        # Checked here, before the uplink's queue: the cut must not wait behind a reconnect or a slow send.
        playing = self._clock.playing() and self._turns.audible()
        if self._barge_in.feed(pcm, helper_playing=playing) and await self._turns.barge_in():
            logger.info("Live session %s: the child spoke over the helper; reply cut", self._session_id)
        await self._uplink.put(AudioInput(pcm))

    async def audio_end(self) -> None:
        if self._fallback is not None:
            await self._fallback.audio_end()
        else:
            await self._uplink.put(AudioEnd())

    async def playback(self, played_samples: int) -> None:
        if self._fallback is not None:
            await self._fallback.playback(played_samples)
        else:
            self._clock.reported(played_samples)

    async def image(self, picture: Picture) -> None:
        if self._fallback is not None:
            await self._fallback.image(picture)
        else:
            await self._uplink.put(PictureShared(picture))

    async def game_state(self, state: GameState) -> None:
        if self._fallback is not None:
            await self._fallback.game_state(state)
            return
        await self._conversation.report_game_state(state)
        if self._upstream is not None:
            await self._uplink.put(GameStateInput(state))
        # else: the upstream being connected is told the newest state as soon as it is open (_connect)

    # --- what the uplink tells -------------------------------------------------------------------

    async def _typed_turn(self, text: str) -> None:
        await self._turns.typed(text)
        self._reply_due()

    def _reply_due(self) -> None:
        self._reply_due_since = time.monotonic()

    # --- downlink: connect, relay, recover ----------------------------------------------------

    async def _supervise(self) -> str:
        """Keep an upstream attached until Live cannot be had; returns why."""
        await self._connector.load()
        failures = 0
        resuming_after_failure = False
        while True:
            try:
                try:
                    await self._connect()
                    if resuming_after_failure:
                        await self._send_json(
                            protocol.status_message(protocol.StatusState.RESUMED, "The helper is back.")
                        )
                        resuming_after_failure = False
                    await self._relay()
                finally:
                    # Before any recovery: nothing may be sent to the old connection from here on.
                    await self._detach_upstream()
            except _SwitchOver:
                metrics.SWITCHOVERS.inc()
                logger.info("Live session %s: switching connection before goAway's deadline", self._session_id)
                # Only a deadline switches in the middle of a turn: then the reply is cut, or still owed.
                await self._cut_reply()
                self._ask_again_on_next_upstream()
                continue
            except (LiveUnavailable, UpstreamRefused) as error:
                return str(error)
            except UpstreamError as error:
                metrics.UPSTREAM_ERRORS.labels(str(error.code)).inc()
                metrics.RECONNECTS.inc()
                failures += 1
                logger.warning(
                    "Live session %s: upstream failed (%s %s), attempt %d",
                    self._session_id,
                    error.code,
                    error.reason,
                    failures,
                )
                if failures > MAX_CONSECUTIVE_FAILURES:
                    return f"Live failed {failures} times: {error}"
                if not resuming_after_failure:
                    await self._send_json(
                        protocol.status_message(protocol.StatusState.RECONNECTING, "The helper is reconnecting.")
                    )
                    resuming_after_failure = True
                await self._cut_reply()
                self._ask_again_on_next_upstream()
                await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])
            if self._turn_succeeded:
                failures = 0

    async def _connect(self) -> None:
        self._turn_succeeded = False
        self._upstream = await self._connector.open(self._history_to_seed)
        if self._conversation.game_state:
            # A fresh upstream knows the stored turns only: the game's newest state goes with them.
            await self._upstream.send_context(as_context(self._conversation.game_state))
        self._uplink.attach(self._upstream)

    async def _history_to_seed(self) -> list[Turn]:
        await self._writes.drained()
        history = await self._conversation.history()
        if history and history[-1].text in self._uplink.words_to_ask_again():
            history = history[:-1]  # it is asked again right after the seed; the model must not hear it twice
        return history

    async def _relay(self) -> None:
        upstream = self._upstream
        assert upstream is not None
        # A pump owned by this method feeds a queue, so waiting can be re-checked at any moment: cancelling a
        # wait on the SDK's iterator itself would close it.
        queue: asyncio.Queue[LiveEvent | UpstreamError] = asyncio.Queue()
        pump = asyncio.create_task(_pump(upstream, queue), name=f"live-pump:{self._session_id}")
        switch_by: float | None = None
        try:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        # asyncio.timeout, not wait_for: wait_for costs a task for every event.
                        async with asyncio.timeout(POLL_SECONDS):
                            item = await queue.get()
                    except TimeoutError:
                        await self._turns.settle_played()
                        self._check_deadlines(upstream, switch_by)
                        continue
                if isinstance(item, UpstreamError):
                    raise item
                if isinstance(item, GoAway):
                    switch_by = time.monotonic() + max(0.0, item.seconds_left - SWITCH_MARGIN_SECONDS)
                    continue
                await self._on_event(item, upstream.model)
                self._check_deadlines(upstream, switch_by)
        finally:
            await cancel_and_wait(pump)

    def _check_deadlines(self, upstream: Upstream, switch_by: float | None) -> None:
        """Raises:
        _SwitchOver: goAway's switch is due (the turn ended, or the deadline is near).
        UpstreamError: a reply is overdue, or the upstream stopped taking the child's audio: it stalled.
        """
        now = time.monotonic()
        if upstream.expire_stalled_send(now):
            raise UpstreamError(1006, "the upstream stopped taking audio")
        if switch_by is not None and (self._turns.between_turns() or now >= switch_by):
            raise _SwitchOver()
        if self._reply_due_since is not None and now - self._reply_due_since > self._timeouts.stall_seconds:
            raise UpstreamError(1006, "the upstream stalled")

    async def _on_event(self, event: LiveEvent, model: str) -> None:
        if self._reply_due_since is not None:
            self._reply_due_since = time.monotonic()
        match event:
            case AudioOut(pcm=pcm):
                if await self._turns.helper_audio(pcm):
                    await self._send_audio(pcm)
            case InputTranscript(text=text):
                await self._turns.child_heard(text)
                self._reply_due()
            case OutputTranscript(text=text):
                await self._turns.helper_said(text)
            case Interrupted():
                await self._turns.interrupted()
            case GenerationComplete() | GoAway():
                pass
            case TurnComplete(usage=usage):
                await self._turns.finish(model)
                if usage:
                    self._writes.submit(functools.partial(self._resumption.add_usage, usage))
                self._reply_due_since = None
                self._turn_succeeded = True
            case ResumptionHandle(handle=handle):
                self._connector.remember(model, handle)
                self._writes.submit(functools.partial(self._resumption.save_resumption, model, handle))
            case ToolCall(call_id=call_id, name=name, arguments=arguments):
                await self._answer_tool_call(call_id, name, arguments)
            case ToolCallCancelled(call_ids=call_ids):
                logger.info("Live session %s: the model cancelled calls %s", self._session_id, ", ".join(call_ids))

    async def _answer_tool_call(self, call_id: str, name: str, arguments: dict[str, object]) -> None:
        """Answered at once from the authored hints (no network): within the call's time whether or not the
        model waits for it. The child's words come first in the transcript, then the call, then the reply."""
        await self._turns.before_tool_call()
        await self._writes.drained()  # the call is stored after the child's words it is about
        result = await self._conversation.call_tool(name, arguments)
        upstream = self._upstream
        if upstream is not None:
            await upstream.send_tool_response(call_id, name, result)
        self._reply_due()

    async def _cut_reply(self) -> None:
        await self._turns.cut(self.model)
        self._reply_due_since = None

    def _ask_again_on_next_upstream(self) -> None:
        """The upstream that is gone (failed, or left at goAway's deadline) took the child's words but never
        answered: the next one hears them again."""
        unanswered = self._turns.unanswered()
        if unanswered is None:
            return
        self._turns.keep_only_child()
        self._uplink.ask_again(unanswered.child_text)

    async def _detach_upstream(self) -> None:
        upstream = await self._uplink.detach()
        self._upstream = None
        if upstream is not None:
            await upstream.close()

    # --- fallback -----------------------------------------------------------------------------

    async def _fall_back(self, reason: str) -> Engine:
        """Hand the conversation to the fallback engine; nothing the child already sent is lost."""
        metrics.FALLBACKS.inc()
        logger.warning("Live session %s: falling back to text mode (%s)", self._session_id, reason)
        await self._turns.settle_played(force=True)
        await self._cut_reply()
        unanswered = self._turns.take_unanswered()
        await self._writes.flush()  # the fallback answers from the stored history
        inputs: list[ClientInput] = self._uplink.drain()
        stored_words = ""
        if unanswered is not None:
            # Words Live took but never answered are answered now, without being stored twice.
            if unanswered.child_stored:
                stored_words = unanswered.child_text
            else:
                inputs.insert(0, TextInput(unanswered.child_text))
        fallback = self._make_fallback()
        await fallback.take_over(Handover(stored_words=stored_words, inputs=tuple(inputs)))
        self._fallback = fallback
        for item in self._uplink.drain():  # what came in while the fallback took over
            await feed(fallback, item)
        await self._send_json(
            protocol.status_message(protocol.StatusState.FALLBACK, "The helper switched to its backup voice.")
        )
        return fallback


async def _pump(upstream: Upstream, queue: asyncio.Queue[LiveEvent | UpstreamError]) -> None:
    try:
        async for event in upstream.events():
            await queue.put(event)
    except UpstreamError as error:
        await queue.put(error)
        return
    await queue.put(UpstreamError(1006, "the upstream ended"))
