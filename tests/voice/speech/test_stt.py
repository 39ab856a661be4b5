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
from voice.speech.stt import CAPTION_NICENESS, DecoderPool, StreamingTranscriber, transcribe

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


async def test_a_final_waiting_for_a_worker_keeps_partials_from_starting_and_goes_first() -> None:
    decoders = DecoderPool(1, caption_workers=1)
    try:
        decoders.start()
        long_question = await spoken_question("How do I open the red door?", lead_seconds=0.2, tail_seconds=0.3)
        short_question = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.3)
        running = decoders.submit_final(long_question)  # takes the only final worker
        waiting = decoders.submit_final(short_question)
        assert decoders.waiting_finals() == 1
        assert decoders.try_partial(short_question) is None, "no caption while a final transcript waits"
        assert "door" in running.result(20).text.lower()
        assert "key" in waiting.result(20).text.lower()
        caption = decoders.try_partial(short_question)
        assert caption is not None, "with nothing waiting, an idle caption worker takes the partial"
        assert decoders.try_partial(short_question) is None, "a busy caption worker means the caption is skipped"
        assert "key" in caption.result(20).text.lower()
    finally:
        decoders.close()


async def test_partial_captions_run_at_a_lower_cpu_priority_than_final_transcripts() -> None:
    decoders = DecoderPool(1, caption_workers=1)
    try:
        decoders.start()
        (final_worker,) = decoders._finals_workers.pids()
        (caption_worker,) = decoders._caption_workers.pids()
        final_niceness = os.getpriority(os.PRIO_PROCESS, final_worker)
        assert os.getpriority(os.PRIO_PROCESS, caption_worker) == final_niceness + CAPTION_NICENESS
    finally:
        decoders.close()


async def test_finals_that_wait_together_are_decoded_in_one_batch_each_with_its_own_transcript() -> None:
    questions = {
        "door": "How do I open the red door?",
        "key": "Where is the key?",
        "bunny": "How do I make the bunny jump?",
        "stuck": "I am stuck.",
    }
    audio = [
        await spoken_question(q, lead_seconds=0.2, tail_seconds=0.3, seed=i) for i, q in enumerate(questions.values())
    ]
    decoders = DecoderPool(1, caption_workers=0)
    try:
        decoders.start()
        decoders.batch_sizes.clear()
        # The first takes the idle worker alone; the other three wait for it, then go together.
        heard = await asyncio.gather(*(decoders.transcribe(pcm) for pcm in audio))
        assert decoders.batch_sizes == {1: 1, 3: 1}
        for keyword, transcript in zip(questions, heard, strict=True):
            words = transcript.text.lower()
            assert keyword in words and not any(other in words for other in questions if other != keyword), heard
    finally:
        decoders.close()


async def test_a_final_withdrawn_while_it_waits_is_never_decoded() -> None:
    decoders = DecoderPool(1, caption_workers=0)
    try:
        decoders.start()
        decoders.batch_sizes.clear()
        pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.3)
        running = decoders.submit_final(pcm)
        withdrawn = decoders.submit_final(pcm)
        kept = decoders.submit_final(pcm)
        assert withdrawn.cancel()
        running.result(20)
        assert "key" in kept.result(20).text.lower()
        assert decoders.batch_sizes == {1: 2}, "the withdrawn one was not decoded alongside the other"
    finally:
        decoders.close()


async def test_many_streams_asking_for_captions_at_once_never_overbook_the_caption_worker(pool: DecoderPool) -> None:
    pcm = await spoken_question("Where is the key?", lead_seconds=0.2, tail_seconds=0.0)
    transcribers = [StreamingTranscriber(pool, partial_every_seconds=0.2) for _ in range(6)]
    for transcriber in transcribers:
        await transcriber.start()
        await transcriber.feed(pcm[:16000])  # 0.5 s: a partial is due for every one of them
    started = [t for t in transcribers if t._partial_task is not None]
    assert len(started) == 1, "one caption worker: one partial, the others skipped"
    for transcriber in transcribers:
        await transcriber.abandon()
