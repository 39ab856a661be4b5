"""The Live bridge: a client's WebSocket relayed to Gemini Live, one conversation across upstream limits and failures.

The bridge owns two tasks. The uplink task sends the child's audio and text to the current upstream, and
keeps them buffered while there is none. The downlink task (the supervisor) connects, relays events to the
client, stores turns, switches over on ``goAway``, reconnects after failures, and falls back to text mode
when Live cannot be had.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from voice import metrics, protocol
from voice.context import Mode, Reply, Turn
from voice.conversation import Conversation
from voice.engines.base import Engine, SendAudio, SendJson
from voice.engines.spoken import SpokenChat
from voice.gemini.events import (
    AudioOut,
    GenerationComplete,
    GoAway,
    InputTranscript,
    Interrupted,
    LiveEvent,
    ModelUnavailable,
    OutputTranscript,
    ResumptionHandle,
    ResumptionRejected,
    TurnComplete,
    UpstreamError,
    UpstreamRefused,
)
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 3
BACKOFF_SECONDS = (0.2, 0.5, 1.0)
SWITCH_MARGIN_SECONDS = 1.0  # switch over this long before goAway's deadline at the latest
POLL_SECONDS = 0.25  # how often deadlines (goAway switch, stalled reply) are checked while no event comes
MAX_BUFFERED_INPUTS = 1500  # 30 s of 20 ms frames, kept while the upstream is being replaced
MAX_AUDIO_BATCH_BYTES = 3200  # 100 ms of 16 kHz PCM16: the most audio queued frames are joined into


class Upstream(Protocol):
    """One open Live session (implemented by ``voice.gemini.sdk.LiveUpstream``)."""

    model: str

    async def send_audio(self, pcm: bytes) -> None: ...
    async def send_audio_end(self) -> None: ...
    async def send_text(self, text: str) -> None: ...
    async def seed(self, history: Sequence[Turn]) -> None: ...
    def events(self) -> AsyncIterator[LiveEvent]: ...
    async def close(self) -> None: ...


OpenUpstream = Callable[[str, str], Awaitable[Upstream]]  # (model, resumption handle) → an open upstream


class ResumptionStore(Protocol):
    """Where the newest resumption handle lives, so that any worker can resume the upstream session."""

    async def load_resumption(self) -> tuple[str, str]:
        """``(model, handle)``; empty strings when there is none, or it is too old to use."""
        ...

    async def save_resumption(self, model: str, handle: str) -> None: ...

    async def add_usage(self, usage: dict[str, int]) -> None: ...


class LiveUnavailable(Exception):
    """Live cannot be had now: every model refused, quota, or repeated failures."""


class _SwitchOver(Exception):
    """Time to move to a fresh connection (goAway), resuming the same session."""


@dataclass
class _Turn:
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
        models: Sequence[str],
        gone_models: set[str],
        resumption: ResumptionStore,
        send_json: SendJson,
        send_audio: SendAudio,
        fallback: Callable[[], Engine],
        timeouts: LiveTimeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self._conversation = conversation
        self._open_upstream = open_upstream
        self._models = tuple(models)
        self._gone = gone_models
        self._resumption = resumption
        self._send_json = send_json
        self._send_audio = send_audio
        self._make_fallback = fallback
        self._timeouts = timeouts
        self._inputs: asyncio.Queue[tuple[str, bytes | str | None]] = asyncio.Queue(maxsize=MAX_BUFFERED_INPUTS)
        self._unsent: tuple[str, bytes | str | None] | None = None
        self._held: tuple[str, bytes | str | None] | None = None  # taken from the queue while joining audio; next
        # Words the child said whose reply a failed upstream never started: sent again, before newer input.
        self._priority: collections.deque[tuple[str, bytes | str | None]] = collections.deque()
        self._upstream: Upstream | None = None
        self._ready = asyncio.Event()
        self._upstream_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._turn = _Turn()
        self._handle = ""
        self._handle_model = ""
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
        usable = [m for m in self._models if m not in self._gone]
        return usable[0] if usable else ""

    def start(self) -> None:
        if not self._tasks:
            session = self._conversation.context.session_id
            self._tasks = [
                asyncio.create_task(self._send_inputs(), name=f"live-up:{session}"),
                asyncio.create_task(self._supervise(), name=f"live-down:{session}"),
            ]

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)
        await self._store_unfinished_turn()
        await self._detach_upstream()
        if self._fallback is not None:
            await self._fallback.close()

    async def text(self, content: str) -> None:
        if self._fallback is not None:
            await self._fallback.text(content)
        else:
            await self._queue(("text", content))

    async def audio(self, pcm: bytes) -> None:
        if self._fallback is not None:
            await self._fallback.audio(pcm)
        else:
            await self._queue(("audio", pcm))

    async def audio_end(self) -> None:
        if self._fallback is not None:
            await self._fallback.audio_end()
        else:
            await self._queue(("end", None))

    async def _queue(self, item: tuple[str, bytes | str | None]) -> None:
        try:
            self._inputs.put_nowait(item)
        except asyncio.QueueFull:
            await self._send_json(
                protocol.error_message(
                    protocol.ErrorCode.INVALID_AUDIO,
                    "The helper is reconnecting and its buffer is full; input dropped.",
                )
            )

    # --- uplink -------------------------------------------------------------------------------

    async def _send_inputs(self) -> None:
        while True:
            if self._unsent is None:
                item = await self._next_input()
                self._unsent = ("audio", self._with_queued_audio(item[1])) if item[0] == "audio" else item
            kind, payload = self._unsent
            if kind == "wake":
                self._unsent = None
                continue
            await self._ready.wait()
            async with self._upstream_lock:
                upstream = self._upstream
                if upstream is None or not self._ready.is_set():
                    continue
                try:
                    if kind == "audio":
                        assert isinstance(payload, bytes)
                        await upstream.send_audio(payload)
                    elif kind == "end":
                        await upstream.send_audio_end()
                    elif kind == "resend":
                        assert isinstance(payload, str)
                        self._reply_due_since = time.monotonic()
                        await upstream.send_text(payload)
                    else:
                        assert isinstance(payload, str)
                        await self._start_typed_turn(payload)
                        await upstream.send_text(payload)
                except UpstreamError as error:
                    # The supervisor sees the broken connection too; this input waits for the next one.
                    logger.info(
                        "Live send failed (%s %s); input kept for the next connection", error.code, error.reason
                    )
                    self._ready.clear()
                    continue
            self._unsent = None

    async def _next_input(self) -> tuple[str, bytes | str | None]:
        if self._priority:
            return self._priority.popleft()
        if self._held is not None:
            item, self._held = self._held, None
            return item
        return await self._inputs.get()

    def _with_queued_audio(self, pcm: object) -> bytes:
        """Audio frames queued behind this one join it: when the loop falls behind (or the upstream was being
        replaced), fewer and larger messages go upstream; when it keeps up, frames go one by one, undelayed."""
        assert isinstance(pcm, bytes)
        parts, size = [pcm], len(pcm)
        while size < MAX_AUDIO_BATCH_BYTES and self._held is None and not self._inputs.empty():
            item = self._inputs.get_nowait()
            if item[0] == "audio" and isinstance(item[1], bytes):
                parts.append(item[1])
                size += len(item[1])
            else:
                self._held = item
        return pcm if len(parts) == 1 else b"".join(parts)

    async def _start_typed_turn(self, text: str) -> None:
        await self._store_unfinished_turn()
        self._turn = _Turn(child=[text], typed=True, child_stored=True, due_since=time.monotonic())
        await self._conversation.store_child_turn(text, spoken=False)
        self._reply_due_since = time.monotonic()

    # --- downlink: connect, relay, recover ----------------------------------------------------

    async def _supervise(self) -> None:
        self._handle_model, self._handle = await self._resumption.load_resumption()
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
                await self._end_interrupted_turn()
                self._ask_again_on_next_upstream()
                continue
            except (LiveUnavailable, UpstreamRefused) as error:
                await self._fall_back(str(error))
                return
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
                    await self._fall_back(f"Live failed {failures} times: {error}")
                    return
                if not resuming_after_failure:
                    await self._send_json(
                        protocol.status_message(protocol.StatusState.RECONNECTING, "The helper is reconnecting.")
                    )
                    resuming_after_failure = True
                await self._end_interrupted_turn()
                self._ask_again_on_next_upstream()
                await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])
            if self._turn_succeeded:
                failures = 0

    @property
    def _session_id(self) -> str:
        return self._conversation.context.session_id

    async def _connect(self) -> None:
        """Open an upstream (resuming when a handle is kept) and let buffered input flow into it.

        Raises:
            LiveUnavailable: no configured model can be used.
            UpstreamRefused, UpstreamError: connecting failed.
        """
        self._turn_succeeded = False
        for model in self._candidate_models():
            handle = self._handle if model == self._handle_model else ""
            try:
                upstream = await self._open_upstream(model, handle)
            except ModelUnavailable:
                logger.warning("Live model %s is not available; trying the next one", model)
                self._gone.add(model)
                continue
            except ResumptionRejected:
                logger.info("Live session %s: handle rejected; starting fresh from stored history", self._session_id)
                self._handle = ""
                upstream = await self._open_upstream(model, "")
                handle = ""
            if not handle:
                await upstream.seed(await self._conversation_history())
            self._upstream = upstream
            self._ready.set()
            return
        raise LiveUnavailable("no Live model is available: " + ", ".join(self._models))

    def _candidate_models(self) -> list[str]:
        usable = [m for m in self._models if m not in self._gone]
        if self._handle and self._handle_model in usable:
            # A handle resumes only on the model that issued it.
            usable.remove(self._handle_model)
            usable.insert(0, self._handle_model)
        return usable

    async def _conversation_history(self) -> list[Turn]:
        history = await self._conversation.history()
        pending = {text for kind, text in self._priority if kind == "resend"}
        if history and history[-1].text in pending:
            history = history[:-1]  # it is asked again right after the seed; the model must not hear it twice
        return history

    async def _relay(self) -> None:
        upstream = self._upstream
        assert upstream is not None
        # A pump owned by this method feeds a queue, so waiting can be re-checked at any moment: cancelling a
        # wait on the SDK's iterator itself would close it.
        queue: asyncio.Queue[LiveEvent | UpstreamError] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(upstream, queue), name=f"live-pump:{self._session_id}")
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
                        self._check_deadlines(switch_by)
                        continue
                if isinstance(item, UpstreamError):
                    raise item
                if isinstance(item, GoAway):
                    switch_by = time.monotonic() + max(0.0, item.seconds_left - SWITCH_MARGIN_SECONDS)
                    continue
                await self._on_event(item)
                self._check_deadlines(switch_by)
        finally:
            await cancel_and_wait(pump)

    @staticmethod
    async def _pump(upstream: Upstream, queue: asyncio.Queue[LiveEvent | UpstreamError]) -> None:
        try:
            async for event in upstream.events():
                await queue.put(event)
        except UpstreamError as error:
            await queue.put(error)
            return
        await queue.put(UpstreamError(1006, "the upstream ended"))

    def _check_deadlines(self, switch_by: float | None) -> None:
        """Raises:
        _SwitchOver: goAway's switch is due (the turn ended, or the deadline is near).
        UpstreamError: a reply is overdue: the upstream stalled.
        """
        now = time.monotonic()
        if switch_by is not None and (self._between_turns() or now >= switch_by):
            raise _SwitchOver()
        if self._reply_due_since is not None and now - self._reply_due_since > self._timeouts.stall_seconds:
            raise UpstreamError(1006, "the upstream stalled")

    async def _on_event(self, event: LiveEvent) -> None:
        turn = self._turn
        if self._reply_due_since is not None:
            self._reply_due_since = time.monotonic()
        match event:
            case AudioOut(pcm=pcm):
                if not turn.active and turn.due_since is not None:
                    metrics.REPLY_LATENCY.labels(Mode.LIVE.value).observe(time.monotonic() - turn.due_since)
                turn.active = True
                await self._store_child_turn()
                await self._send_audio(pcm)
            case InputTranscript(text=text):
                if turn.typed or turn.helper:  # the child speaks again: a new turn
                    await self._store_unfinished_turn()
                    turn = self._turn = _Turn()
                turn.child.append(text)
                self._reply_due_since = time.monotonic()
                turn.due_since = turn.due_since or self._reply_due_since
                await self._send_json(protocol.input_transcript_message(turn.child_text, final=False))
            case OutputTranscript(text=text):
                turn.active = True
                await self._store_child_turn()
                turn.helper.append(text)
                await self._send_json(protocol.output_transcript_message(text))
            case Interrupted():
                turn.interrupted = True
                await self._send_json(protocol.interrupted_message())
            case GenerationComplete():
                pass
            case TurnComplete(usage=usage):
                await self._finish_turn(usage)
            case ResumptionHandle(handle=handle):
                self._handle, self._handle_model = handle, self._upstream.model if self._upstream else ""
                await self._resumption.save_resumption(self._handle_model, handle)

    async def _store_child_turn(self) -> None:
        turn = self._turn
        if not turn.child_stored and turn.child_text:
            turn.child_stored = True
            await self._send_json(protocol.input_transcript_message(turn.child_text, final=True))
            await self._conversation.store_child_turn(turn.child_text, spoken=True)

    async def _finish_turn(self, usage: dict[str, int]) -> None:
        turn = self._turn
        await self._store_child_turn()
        if turn.helper_text or turn.interrupted:
            await self._record_helper(turn)
        if usage:
            await self._resumption.add_usage(usage)
        if turn.typed and turn.helper_text:
            await self._send_json(protocol.response_message(turn.helper_text))
        await self._send_json(protocol.turn_complete_message(interrupted=turn.interrupted))
        metrics.TURNS.labels(Mode.LIVE.value, str(turn.interrupted).lower()).inc()
        if self._turn is turn:  # the child may have typed a new turn meanwhile
            self._turn = _Turn()
        self._reply_due_since = None
        self._turn_succeeded = True

    async def _record_helper(self, turn: _Turn) -> None:
        reply = Reply(text=turn.helper_text, mode=Mode.LIVE, model=self.model)
        await self._conversation.record_reply(turn.helper_text, reply, spoken=True, interrupted=turn.interrupted)

    async def _store_unfinished_turn(self) -> None:
        """Keep what was said in a turn that will not complete (the client left, or the upstream broke)."""
        turn, self._turn = self._turn, _Turn()
        await self._store_child_turn_of(turn)
        if turn.helper_text:
            turn.interrupted = True
            await self._record_helper(turn)

    async def _store_child_turn_of(self, turn: _Turn) -> None:
        if not turn.child_stored and turn.child_text:
            turn.child_stored = True
            await self._conversation.store_child_turn(turn.child_text, spoken=True)

    async def _end_interrupted_turn(self) -> None:
        """After an upstream failure the helper's reply is cut: tell the client to flush, keep what was heard."""
        if self._turn.active:
            await self._send_json(protocol.interrupted_message())
            await self._store_unfinished_turn()
            await self._send_json(protocol.turn_complete_message(interrupted=True))
        self._reply_due_since = None

    def _between_turns(self) -> bool:
        """No reply is being given, and none is owed: the moment to move to another upstream."""
        return not self._turn.active and not self._turn.child_text

    def _ask_again_on_next_upstream(self) -> None:
        """The upstream that is gone (failed, or left at goAway's deadline) took the child's words but never
        answered: the next one hears them again."""
        turn = self._turn
        if turn.active or not turn.child_text or (self._unsent is not None and self._unsent[0] == "text"):
            return
        self._turn = _Turn(child=[turn.child_text], typed=turn.typed, child_stored=turn.child_stored)
        self._priority.append(("resend", turn.child_text))
        with contextlib.suppress(asyncio.QueueFull):
            self._inputs.put_nowait(("wake", None))

    async def _detach_upstream(self) -> None:
        self._ready.clear()
        async with self._upstream_lock:  # wait for an input being sent to finish
            upstream, self._upstream = self._upstream, None
        if upstream is not None:
            await upstream.close()

    # --- fallback -----------------------------------------------------------------------------

    async def _fall_back(self, reason: str) -> None:
        metrics.FALLBACKS.inc()
        logger.warning("Live session %s: falling back to text mode (%s)", self._session_id, reason)
        await self._detach_upstream()
        if self._turn.active:
            await self._end_interrupted_turn()
        fallback = self._make_fallback()
        fallback.start()
        self._fallback = fallback
        await self._send_json(
            protocol.status_message(protocol.StatusState.FALLBACK, "The helper switched to its backup voice.")
        )
        # Nothing the child already sent is lost: it goes to the fallback engine, in order. Words Live took
        # but never answered are answered now, without being stored twice.
        unanswered = self._turn if not self._turn.active and self._turn.child_text else None
        pending = [item for item in self._priority if item[0] != "resend"]
        self._priority.clear()
        if unanswered is not None and isinstance(fallback, SpokenChat):
            if unanswered.child_stored:
                await fallback.answer_stored(unanswered.child_text)
            else:
                await fallback.text(unanswered.child_text)
        self._turn = _Turn()
        pending += [self._unsent] if self._unsent and self._unsent[0] != "resend" else []
        pending += [self._held] if self._held is not None else []
        self._held = None
        while not self._inputs.empty():
            pending.append(self._inputs.get_nowait())
        self._unsent = None
        for kind, payload in pending:
            if kind == "audio" and isinstance(payload, bytes):
                await fallback.audio(payload)
            elif kind == "text" and isinstance(payload, str):
                await fallback.text(payload)
            elif kind == "end":
                await fallback.audio_end()
