"""Whisper in worker processes: streaming partials, a final transcript, silence heard as nothing, dead workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from tests.speech import spoken_question, word_similarity
from voice.speech.stt import DecoderPool, StreamingTranscriber, transcribe

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pool() -> Iterator[DecoderPool]:
    decoders = DecoderPool(1)
    decoders.start()
    yield decoders
    decoders.close()


async def test_a_question_is_transcribed_with_partials_on_the_way(pool: DecoderPool) -> None:
    pcm = await spoken_question("How do I open the red door?", lead_seconds=0.2, tail_seconds=0.3)
    transcriber = StreamingTranscriber(pool, partial_every_seconds=0.4)
    await transcriber.start()
    partials = []
    for start in range(0, len(pcm), 3200):  # 100 ms at a time, in real time
        if partial := await transcriber.feed(pcm[start : start + 3200]):
            partials.append(partial)
        await asyncio.sleep(0.1)
    final = await transcriber.finish()
    assert word_similarity("how do i open the red door", final) == 1.0
    assert partials, "captions appear while the child is still talking"
    assert not transcriber.active


async def test_silence_and_a_noise_floor_are_heard_as_nothing(pool: DecoderPool) -> None:
    # Whisper invents "Thank you." or "you" on silence; its no-speech probability must stop that.
    assert await transcribe(pool, bytes(32000)) == ""
    noise = (np.random.default_rng(1).normal(0, 100, 32000)).astype("<i2").tobytes()
    assert await transcribe(pool, noise) == ""


async def test_an_abandoned_utterance_leaves_the_transcriber_ready_for_the_next(pool: DecoderPool) -> None:
    transcriber = StreamingTranscriber(pool)
    await transcriber.start()
    await transcriber.feed(bytes(64000))
    await transcriber.abandon()
    assert not transcriber.active
    assert await transcriber.finish() == ""
    with pytest.raises(RuntimeError, match="before start"):
        await transcriber.feed(b"\0\0")


async def test_a_killed_worker_is_replaced_and_the_failure_remembered() -> None:
    decoders = DecoderPool(1)
    try:
        decoders.start()
        assert decoders.probe() == "ok"
        assert decoders.recent_failure() is None
        for pid in decoders.worker_pids():
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        assert decoders.probe().startswith("error: the speech-recognition workers stopped")
        assert decoders.recent_failure() is not None
        pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.3)
        assert "key" in (await transcribe(decoders, pcm)).lower()  # a new worker answers
        assert decoders.probe() == "ok"
    finally:
        decoders.close()


def test_decoders_end_with_the_process_that_started_them_even_when_it_is_killed() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", "from voice.speech.stt import DecoderPool; import sys, time; pool = DecoderPool(1); "
         "pool.start(); print(*pool.worker_pids(), flush=True); time.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert owner.stdout is not None
        decoders = [psutil.Process(int(pid)) for pid in owner.stdout.readline().split()]
        assert decoders and all(decoder.is_running() for decoder in decoders)
    finally:
        owner.kill()  # as a uvicorn worker SIGKILLed, or one ending with os._exit: no pool shutdown runs
        owner.wait()
    _, alive = psutil.wait_procs(decoders, timeout=10)
    for decoder in alive:
        decoder.kill()
    assert not alive, "an orphaned decoder would keep about 150 MB at every worker restart"


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DecoderPool(0)


async def test_quiet_after_speech_starts_the_final_decode_early_and_speech_cancels_it(pool: DecoderPool) -> None:
    pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.0)
    transcriber = StreamingTranscriber(pool, partial_every_seconds=60)
    await transcriber.start()
    await transcriber.feed(pcm)
    await transcriber.feed(bytes(6400))  # 200 ms of quiet
    early = transcriber._early_final
    assert early is not None, "the final decode started during the quiet"
    await transcriber.feed(pcm[: len(pcm) // 4 * 2])  # ...but the child goes on
    assert early.cancelled() or transcriber._early_final is not early
    await transcriber.feed(bytes(6400))
    await asyncio.wait_for(asyncio.shield(transcriber._early_final), 20)  # type: ignore[arg-type]
    assert transcriber.looks_finished(), "a complete, punctuated sentence ends the turn early"
    assert "key" in (await transcriber.finish()).lower()
