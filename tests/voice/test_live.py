"""The Live bridge's uplink against a stand-in upstream: what reaches Gemini, in which messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.conversation import ConversationContext, LevelContext, Turn
from voice.live import MAX_AUDIO_BATCH_BYTES, LiveChat
from voice.providers.live_events import LiveEvent
from voice.session import Conversation

FRAME = 640  # 20 ms of 16 kHz PCM16


class RecordingUpstream:
    """Keeps every message the bridge sends; says nothing back."""

    model = "live-model"

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | str]] = []
        self.received = asyncio.Event()

    async def send_audio(self, pcm: bytes) -> None:
        self.sent.append(("audio", pcm))
        self.received.set()

    async def send_audio_end(self) -> None:
        self.sent.append(("end", ""))

    async def send_text(self, text: str) -> None:
        self.sent.append(("text", text))
        self.received.set()

    async def seed(self, history: Sequence[Turn]) -> None:
        pass

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


def bridge(upstream: RecordingUpstream, connected: asyncio.Event) -> LiveChat:
    async def open_upstream(model: str, handle: str) -> RecordingUpstream:
        await connected.wait()
        return upstream

    async def ignore(_: Any) -> None:
        pass

    context = ConversationContext("session", 6, LevelContext("Level", "", ()))
    return LiveChat(
        conversation=Conversation(context=context, store=MemoryStore(), brain=ScriptedBrain()),
        open_upstream=open_upstream,
        models=["live-model"],
        gone_models=set(),
        resumption=NoResumption(),
        send_json=ignore,
        send_audio=ignore,
        fallback=lambda: None,  # type: ignore[arg-type,return-value]  # Live never fails here
    )


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
    chat.start()
    for number in range(12):
        await chat.audio(frame(number))
    await chat.text("where is the key?")
    for number in range(12, 14):
        await chat.audio(frame(number))
    connected.set()
    await until_sent(upstream, 5)
    await chat.close()

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
    chat.start()
    for number in range(5):
        await chat.audio(frame(number))
        await until_sent(upstream, number + 1)
    await chat.close()

    assert [payload for _, payload in upstream.sent] == [frame(number) for number in range(5)]
