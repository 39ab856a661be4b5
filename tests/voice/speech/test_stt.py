"""pocketsphinx behind a bounded decoder pool: streaming partials, a final transcript, and sharing."""

from __future__ import annotations

import asyncio

import pytest

from tests.speech import spoken_question, word_similarity
from voice.speech.stt import DecoderPool, StreamingTranscriber, shared_decoder_pool, transcribe


async def test_a_question_is_transcribed_with_partials_on_the_way() -> None:
    pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.3)
    transcriber = StreamingTranscriber(shared_decoder_pool(2))
    await transcriber.start()
    partials = [p for start in range(0, len(pcm), 3200) if (p := await transcriber.feed(pcm[start : start + 3200]))]
    final = await transcriber.finish()
    assert word_similarity("where is the key", final) >= 0.5
    assert "key" in final.split()
    assert len(partials) >= 2 and partials[-1] == final
    assert not transcriber.active


async def test_a_pool_never_creates_more_decoders_than_its_size() -> None:
    created: list[object] = []

    def factory() -> object:
        created.append(object())
        return created[-1]

    pool = DecoderPool(1, factory=factory)
    first = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    assert not waiting.done(), "the second speaker waits for the only decoder"
    pool.release(first)
    assert await asyncio.wait_for(waiting, 1) is first
    assert len(created) == 1


async def test_a_cancelled_waiter_does_not_swallow_a_decoder() -> None:
    pool = DecoderPool(1, factory=object)
    held = await pool.acquire()
    gave_up = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.01)
    gave_up.cancel()
    pool.release(held)
    assert await asyncio.wait_for(pool.acquire(), 1) is held


def test_a_pool_needs_a_decoder() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DecoderPool(0)


async def test_silence_transcribes_to_nothing() -> None:
    assert (await transcribe(shared_decoder_pool(2), bytes(16000))).strip() == ""
