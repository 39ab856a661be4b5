"""The Live bridge against a stand-in upstream: what reaches Gemini, in which messages, and what waits for the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from tests.voice.fakes import MemoryStore, RecordingEngine, ScriptedBrain
from voice.context import ConversationContext, LevelContext, Picture, Speaker, Turn
from voice.conversation import Conversation
from voice.engines.base import running
from voice.engines.live import MAX_AUDIO_BATCH_BYTES, LiveChat
from voice.gemini.events import (
    AudioOut,
    GoAway,
    InputTranscript,
    LiveEvent,
    OutputTranscript,
    TurnComplete,
    UpstreamError,
)
from voice.gemini.roster import ModelRoster

FRAME = 640  # 20 ms of 16 kHz PCM16


class RecordingUpstream:
    """Keeps every message the bridge sends; says nothing back."""

    model = "live-model"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.received = asyncio.Event()

    async def send_audio(self, pcm: bytes) -> None:
        self.sent.append(("audio", pcm))
        self.received.set()

    async def send_audio_end(self) -> None:
        self.sent.append(("end", ""))

    async def send_text(self, text: str) -> None:
        self.sent.append(("text", text))
        self.received.set()

    async def send_image(self, picture: Picture) -> None:
        self.sent.append(("image", picture))
        self.received.set()

    async def send_context(self, text: str) -> None:
        self.sent.append(("context", text))
        self.received.set()

    async def send_tool_response(self, call_id: str, name: str, result: dict[str, Any]) -> None:
        self.sent.append(("tool_response", (call_id, name, result)))
        self.received.set()

    async def seed(self, history: Sequence[Turn]) -> None:
        pass

    def expire_stalled_send(self, now: float) -> bool:
        return False  # its sends never wait

    async def events(self) -> AsyncIterator[LiveEvent]:
        await asyncio.Event().wait()
        yield  # type: ignore[misc]  # never reached: the upstream stays silent

    async def close(self) -> None:
        pass


class NoResumption:
    async def load_resumption(self) -> tuple[str, str]:
        return "", ""

    async def save_resumption(self, model: str, handle: str) -> None:
        pass

    async def add_usage(self, usage: dict[str, int]) -> None:
        pass


class ScriptedUpstream(RecordingUpstream):
    """Says what the test puts in ``script``."""

    def __init__(self) -> None:
        super().__init__()
        self.script: asyncio.Queue[LiveEvent] = asyncio.Queue()

    async def events(self) -> AsyncIterator[LiveEvent]:
        while True:
            yield await self.script.get()


async def ignore(_: Any) -> None:
    pass


def live_chat(open_upstream: Any, send_audio: Any = ignore, store: MemoryStore | None = None) -> LiveChat:
    context = ConversationContext("session", 6, LevelContext("Level", "", ()))
    return LiveChat(
        conversation=Conversation(context=context, store=store or MemoryStore(), brain=ScriptedBrain()),
        open_upstream=open_upstream,
        roster=ModelRoster(["live-model"], "Live"),
        resumption=NoResumption(),
        send_json=ignore,
        send_audio=send_audio,
        fallback=RecordingEngine,  # Live never fails here
    )


def bridge(upstream: RecordingUpstream, connected: asyncio.Event) -> LiveChat:
    async def open_upstream(model: str, handle: str) -> RecordingUpstream:
        await connected.wait()
        return upstream

    return live_chat(open_upstream)


def switching(*upstreams: ScriptedUpstream) -> tuple[Any, list[ScriptedUpstream]]:
    """An opener that hands out ``upstreams`` in turn, and the list of those opened so far."""
    opened: list[ScriptedUpstream] = []

    async def open_upstream(model: str, handle: str) -> ScriptedUpstream:
        opened.append(upstreams[len(opened)])
        return opened[-1]

    return open_upstream, opened


async def until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (the bridge changes this state; it offers no event to wait on)
            await asyncio.sleep(0.01)


def frame(number: int) -> bytes:
    return bytes([number % 256]) * FRAME


async def until_sent(upstream: RecordingUpstream, count: int) -> None:
    async with asyncio.timeout(5):
        while len(upstream.sent) < count:
            upstream.received.clear()
            await upstream.received.wait()


async def test_frames_queued_while_connecting_go_up_joined_in_order_around_a_typed_message() -> None:
    upstream, connected = RecordingUpstream(), asyncio.Event()
    chat = bridge(upstream, connected)
    async with running(chat):
        for number in range(12):
            await chat.audio(frame(number))
        await chat.text("where is the key?")
        for number in range(12, 14):
            await chat.audio(frame(number))
        connected.set()
        await until_sent(upstream, 5)

    per_batch = MAX_AUDIO_BATCH_BYTES // FRAME
    assert [(kind, len(payload)) for kind, payload in upstream.sent] == [
        ("audio", per_batch * FRAME),
        ("audio", per_batch * FRAME),
        ("audio", (12 - 2 * per_batch) * FRAME),
        ("text", len("where is the key?")),
        ("audio", 2 * FRAME),
    ]
    audio = b"".join(payload for kind, payload in upstream.sent if isinstance(payload, bytes))
    assert audio == b"".join(frame(number) for number in range(14)), "every byte, in the order it was sent"


async def test_frames_that_arrive_while_the_upstream_keeps_up_go_one_by_one() -> None:
    upstream, connected = RecordingUpstream(), asyncio.Event()
    connected.set()
    chat = bridge(upstream, connected)
    async with running(chat):
        for number in range(5):
            await chat.audio(frame(number))
            await until_sent(upstream, number + 1)

    assert [payload for _, payload in upstream.sent] == [frame(number) for number in range(5)]


async def test_go_away_waits_for_the_reply_the_child_is_owed_before_switching() -> None:
    first, second = ScriptedUpstream(), ScriptedUpstream()
    open_upstream, opened = switching(first, second)
    heard: list[bytes] = []

    async def play(pcm: bytes) -> None:
        heard.append(pcm)

    chat = live_chat(open_upstream, play)
    async with running(chat):
        await until(lambda: opened == [first])
        for event in (GoAway(60.0), InputTranscript("where is the key"), AudioOut(b"\x01\x00" * 480)):
            await first.script.put(event)
        await until(lambda: heard)
        assert opened == [first], "no switch while the child waits for the answer"
        await first.script.put(TurnComplete({}))
        await until(lambda: len(opened) == 2)
    assert heard == [b"\x01\x00" * 480]
    assert second.sent == [], "nothing was owed: the new connection is not asked again"


async def test_a_switch_at_go_aways_deadline_asks_the_new_connection_for_the_owed_reply() -> None:
    first, second = ScriptedUpstream(), ScriptedUpstream()
    open_upstream, opened = switching(first, second)
    chat = live_chat(open_upstream)
    async with running(chat):
        await until(lambda: opened == [first])
        for event in (GoAway(0.5), InputTranscript("where is the key")):
            await first.script.put(event)
        await until_sent(second, 1)
    assert second.sent == [("text", "where is the key")]


class SlowStore(MemoryStore):
    """A store whose writes wait until the test lets them through, or fail when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.open = asyncio.Event()
        self.failure: Exception | None = None

    async def add_turn(self, speaker: Speaker, text: str, **kwargs: Any) -> int:
        await self.open.wait()
        if self.failure is not None:
            raise self.failure
        return await super().add_turn(speaker, text, **kwargs)


async def test_reply_audio_reaches_the_child_while_the_turns_wait_for_a_slow_store() -> None:
    upstream = ScriptedUpstream()
    open_upstream, _ = switching(upstream)
    store = SlowStore()
    heard: list[bytes] = []

    async def play(pcm: bytes) -> None:
        heard.append(pcm)

    chat = live_chat(open_upstream, play, store)
    async with running(chat):
        for event in (InputTranscript("where is the key"), AudioOut(b"\x01\x00" * 480), AudioOut(b"\x02\x00" * 480)):
            await upstream.script.put(event)
        await until(lambda: len(heard) == 2)
        assert store.turns == [], "the child's turn is still on its way to the store"
        await upstream.script.put(OutputTranscript("Look up!"))
        await upstream.script.put(TurnComplete({}))
        store.open.set()
        await until(lambda: len(store.turns) == 2)
    assert [(speaker, text) for speaker, text, *_ in store.turns] == [
        (Speaker.CHILD, "where is the key"),
        (Speaker.ASSISTANT, "Look up!"),
    ]


async def test_a_store_that_fails_behind_the_audio_fails_the_engine() -> None:
    upstream = ScriptedUpstream()
    open_upstream, _ = switching(upstream)
    store = SlowStore()
    store.failure = RuntimeError("the database is gone")
    store.open.set()
    chat = live_chat(open_upstream, store=store)
    run = asyncio.create_task(chat.run())
    await upstream.script.put(InputTranscript("where is the key"))
    await upstream.script.put(AudioOut(b"\x01\x00" * 480))
    with pytest.raises(ExceptionGroup) as failed:
        await asyncio.wait_for(run, 5)
    assert failed.group_contains(RuntimeError, match="the database is gone")
    await chat.close()


class StuckUpstream(ScriptedUpstream):
    """Stops taking audio; its time limit has passed as soon as the engine checks."""

    def __init__(self) -> None:
        super().__init__()
        self.sender: asyncio.Task[Any] | None = None

    async def send_audio(self, pcm: bytes) -> None:
        self.sender = asyncio.current_task()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise UpstreamError(1006, "sending audio timed out") from None

    def expire_stalled_send(self, now: float) -> bool:
        if self.sender is None or self.sender.done():
            return False
        self.sender.cancel()
        return True


async def test_an_upstream_that_stops_taking_audio_is_replaced_and_the_frame_goes_to_the_next() -> None:
    stuck, healthy = StuckUpstream(), ScriptedUpstream()
    open_upstream, opened = switching(stuck, healthy)
    chat = live_chat(open_upstream)
    async with running(chat):
        await until(lambda: opened == [stuck])
        await chat.audio(frame(1))
        await until_sent(healthy, 1)
    assert healthy.sent == [("audio", frame(1))], "the frame that hung is sent again, once"
