"""Per-connection limits: floods, oversized frames and the daily speaking budget."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from tests.voice.fakes import RecordingEngine
from voice.audio_format import MAX_AUDIO_FRAME_BYTES
from voice.connection import ChatConnection
from voice.limits import TIME_FOR_A_BREAK, ConnectionLimits, TokenBucket


class Budget:
    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.answer = asyncio.Event()  # the shared store's round trip
        self.answer.set()

    async def spend(self, seconds: float) -> bool:
        await self.answer.wait()
        self.left -= seconds
        return self.left >= 0


def connection(limits: ConnectionLimits | None = None, budget: Budget | None = None):
    sent: list[dict[str, Any]] = []
    closed: list[int] = []
    engine = RecordingEngine()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def close(code: int) -> None:
        closed.append(code)

    return (
        ChatConnection(
            engine=engine, send_json=send, close=close, limits=limits or ConnectionLimits(), speaking_budget=budget
        ),
        engine,
        sent,
        closed,
    )


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=10, burst_seconds=1)
    assert sum(bucket.take() for _ in range(30)) == 10


async def test_an_oversized_audio_frame_closes_1009() -> None:
    chat, engine, _, closed = connection()
    await chat.receive_bytes(b"\x00" * (MAX_AUDIO_FRAME_BYTES + 2))
    assert closed == [1009]
    assert engine.calls == []


async def test_an_oversized_text_frame_closes_1009() -> None:
    chat, _, _, closed = connection(ConnectionLimits(max_text_frame_bytes=100))
    await chat.receive_text('{"type":"text","content":"' + "a" * 200 + '"}')
    assert closed == [1009]


async def test_a_flood_is_dropped_with_one_error_then_closed_4029() -> None:
    chat, engine, sent, closed = connection(ConnectionLimits(frames_per_second=10, burst_seconds=1, flood_seconds=0))
    for _ in range(15):
        await chat.receive_bytes(b"\x00\x00" * 320)
    assert len(engine.calls) == 10, "the burst gets through, the rest is dropped"
    assert [m["code"] for m in sent] == ["rate_limited"]
    assert closed == [4029]


async def test_the_daily_budget_ends_with_friendly_words_then_4029() -> None:
    chat, engine, sent, closed = connection(ConnectionLimits(billing_seconds=1.0), budget=Budget(seconds=2.0))
    second = b"\x00\x00" * 16_000
    for _ in range(4):
        await chat.receive_bytes(second[: len(second) // 2])
        await chat.receive_bytes(second[len(second) // 2 :])
        await asyncio.sleep(0)  # frames come apart in time: the count of each second is made meanwhile
    assert sent == [{"type": "response", "content": TIME_FOR_A_BREAK}]
    assert closed == [4029]
    assert len(engine.calls) == 6, "audio stops reaching the helper once the third second is counted"


async def test_counting_speaking_time_does_not_hold_up_the_audio() -> None:
    budget = Budget(seconds=60.0)
    budget.answer.clear()  # the store does not answer yet
    chat, engine, _, closed = connection(ConnectionLimits(billing_seconds=1.0), budget=budget)
    half_second = b"\x00\x00" * 8_000
    for _ in range(6):
        await asyncio.wait_for(chat.receive_bytes(half_second), timeout=1.0)
    assert len(engine.calls) == 6, "every frame reached the helper while the count was on its way"
    budget.answer.set()
    await asyncio.sleep(0.01)
    assert budget.left == 59.0, "the first second was counted once; the next count waited for it"
    assert closed == []
    await chat.close()


async def test_base64_audio_pays_the_byte_limit_like_binary_audio() -> None:
    chat, engine, sent, _ = connection(ConnectionLimits(audio_bytes_per_second=1000, burst_seconds=1))
    frame = {"type": "audio_base64", "content": base64.b64encode(b"\x01\x00" * 400).decode()}
    await chat.receive_text(json.dumps(frame))
    await chat.receive_text(json.dumps(frame))
    assert [name for name, _ in engine.calls] == ["audio"], "800 bytes fit the 1000-byte burst; 1600 do not"
    assert [m["code"] for m in sent] == ["rate_limited"]


async def test_a_steady_flood_that_lets_some_frames_through_still_closes_4029_with_one_error() -> None:
    chat, engine, sent, closed = connection(
        ConnectionLimits(frames_per_second=50, burst_seconds=0.1, flood_seconds=0.3, calm_seconds=0.5)
    )
    deadline = time.monotonic() + 1.0
    while not closed and time.monotonic() < deadline:
        await chat.receive_bytes(b"\x00\x00" * 320)  # about twice the allowed rate: half get through
        await asyncio.sleep(0.01)
    assert closed == [4029]
    assert len(engine.calls) > 5, "frames within the rate kept reaching the engine during the flood"
    assert [m["code"] for m in sent] == ["rate_limited"], "one error per flood"


async def test_a_new_flood_after_a_calm_gets_its_own_warning() -> None:
    chat, _, sent, closed = connection(
        ConnectionLimits(frames_per_second=10, burst_seconds=0.1, flood_seconds=5, calm_seconds=0.05)
    )
    for _ in range(2):
        for _ in range(5):
            await chat.receive_bytes(b"\x00\x00" * 320)
        await asyncio.sleep(0.2)
    assert [m["code"] for m in sent] == ["rate_limited", "rate_limited"]
    assert closed == []


async def test_the_text_frame_limit_counts_bytes_not_characters() -> None:
    chat, _, _, closed = connection(ConnectionLimits(max_text_frame_bytes=100))
    await chat.receive_text('{"type":"text","content":"' + "🦄" * 20 + '"}')  # 48 characters, 108 bytes
    assert closed == [1009]
