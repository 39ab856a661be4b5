"""Streaming speech-to-text: Whisper tiny.en in a pool of worker processes, off the event loop and the GIL.

While the child talks, the growing utterance is re-decoded now and then for partial captions (only while a
worker stays free besides, so partials rarely delay anyone's final transcript); at the end of speech the whole
utterance is decoded once more for the final transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import webrtcvad

from voice.speech.whisper import SAMPLE_RATE, Transcript, WhisperRecognizer, check_installed
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

PARTIAL_EVERY_SECONDS = 0.6  # new audio between two partial decodes
EARLY_FINAL_QUIET_MS = 100  # this much quiet after speech starts the final decode before the turn ends
MIN_SPEECH_FOR_EARLY_FINAL_MS = 300  # ...once there is this much speech (not on the pre-roll's quiet)
_FRAME_MS = 20
_FRAME_BYTES = SAMPLE_RATE * 2 * _FRAME_MS // 1000
FINAL_TIMEOUT_SECONDS = 10.0
MAX_UTTERANCE_SECONDS = 28.0  # Whisper hears at most 30 s; a longer turn keeps its end
RECENT_FAILURE_SECONDS = 60.0  # how long a failed or late transcription keeps the engine "degraded"
LATE_FINAL_SECONDS = 2.0  # a final transcript slower than this counts as a turn not answered in time
PROBE_PCM = bytes(SAMPLE_RATE)  # one second of silence: the health probe's question
_BYTES_PER_SECOND = SAMPLE_RATE * 2


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class RecognitionFailed(RuntimeError):
    """No worker could transcribe the audio (the workers died, or did not answer in time)."""


# --- inside a worker process ------------------------------------------------------------------------

_worker_recognizer: WhisperRecognizer | None = None


def _load_in_worker(threads: int) -> None:
    global _worker_recognizer
    _exit_with_parent()
    _worker_recognizer = WhisperRecognizer(threads=threads)


def _exit_with_parent() -> None:
    """End this worker when the service process that started it is gone, however it went.

    A worker waits on its task queue, whose writing end it holds itself, so it never sees the queue close. A
    service process that is killed, or a uvicorn worker that ends with ``os._exit`` (no atexit, so no pool
    shutdown), would otherwise leave its decoders running, about 150 MB each, at every restart.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_then_exit() -> None:
        parent.join()  # returns when the parent's end of the sentinel pipe closes: the parent has exited
        os._exit(0)

    threading.Thread(target=wait_then_exit, name="exit-with-parent", daemon=True).start()


def _transcribe_in_worker(pcm: bytes) -> Transcript:
    if _worker_recognizer is None:
        raise RecognitionFailed("the worker has no model loaded")
    return _worker_recognizer.transcribe(pcm)


# --- in the service ---------------------------------------------------------------------------------


class DecoderPool:
    """``size`` worker processes, each with its own Whisper model (about 150 MB), shared by every connection.

    Workers are started with ``spawn`` (a fresh interpreter; nothing of the service's threads is copied).
    When one dies, the pool is rebuilt on the next request and the failure is remembered for the health check.
    """

    def __init__(self, size: int | None = None, *, threads_per_worker: int = 1) -> None:
        size = default_workers() if size is None else size
        if size < 1:
            raise ValueError("A decoder pool needs at least one worker.")
        self.size = size
        self._threads = threads_per_worker
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight = 0
        self._failures: list[tuple[float, str]] = []

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.size,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_load_in_worker,
                    initargs=(self._threads,),
                )
            return self._executor

    def start(self, timeout: float = 120.0) -> None:
        """Start every worker and load its model now (blocking), instead of at the first question.

        Raises:
            RecognizerMissing: the model or its runtime is not installed (said here, not in a worker).
        """
        check_installed()
        pool = self._pool()
        for warmed in [pool.submit(_transcribe_in_worker, PROBE_PCM) for _ in range(self.size)]:
            warmed.result(timeout)

    def workers_alive(self) -> bool:
        """No worker process that was started has died (a pool that has not started any counts as alive)."""
        with self._lock:
            if self._executor is None:
                return True
            processes = dict(self._executor._processes or {})
        return all(process.is_alive() for process in processes.values())

    def worker_pids(self) -> list[int]:
        with self._lock:
            # ProcessPoolExecutor keeps its processes by pid; there is no public accessor.
            return list(self._executor._processes or {}) if self._executor is not None else []

    def has_room_for_a_partial(self, *, first: bool) -> bool:
        """A worker is idle and, unless this is an utterance's first caption, one more stays free for a final
        transcript (later partials are only captions; the first tells the child they are heard)."""
        with self._lock:
            return self._in_flight < (self.size if first else max(1, self.size - 1))

    def _submit(self, pcm: bytes) -> Future[Transcript]:
        try:
            future = self._pool().submit(_transcribe_in_worker, pcm)
        except BrokenProcessPool:
            self._replace_broken()
            future = self._pool().submit(_transcribe_in_worker, pcm)
        with self._lock:
            self._in_flight += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Transcript]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _replace_broken(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        self.record_failure("the speech-recognition workers stopped; starting new ones")
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    async def transcribe(self, pcm: bytes) -> Transcript:
        """Whisper's transcript of 16 kHz PCM16 (the last ``MAX_UTTERANCE_SECONDS`` of it).

        Raises:
            RecognitionFailed: the workers died twice in a row, or did not answer in time.
        """
        pcm = pcm[-int(MAX_UTTERANCE_SECONDS * _BYTES_PER_SECOND) :]
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(asyncio.wrap_future(self._submit(pcm)), FINAL_TIMEOUT_SECONDS)
            except BrokenProcessPool:
                self._replace_broken()
                if attempt == 2:
                    raise RecognitionFailed("the speech-recognition workers keep stopping") from None
            except TimeoutError:
                self.record_failure("speech recognition did not answer in time")
                raise RecognitionFailed("speech recognition did not answer in time") from None
        raise AssertionError("unreachable")

    def record_failure(self, reason: str) -> None:
        logger.warning("Offline speech recognition: %s", reason)
        with self._lock:
            self._failures = [*self._failures[-9:], (time.monotonic(), reason)]

    def recent_failure(self) -> str | None:
        """Why a recent turn could not be transcribed in time, or None."""
        with self._lock:
            recent = [reason for at, reason in self._failures if time.monotonic() - at < RECENT_FAILURE_SECONDS]
        return recent[-1] if recent else None

    def probe(self, timeout: float = 5.0) -> str:
        """``ok`` when a worker transcribes a second of audio in time, else the reason (blocking)."""
        with self._lock:
            started = self._executor is not None
        try:
            if not started:  # a process that never warmed up (a management command, a test): start them now
                self.start()
                return "ok"
            future = self._pool().submit(_transcribe_in_worker, PROBE_PCM)
            future.result(timeout)
        except BrokenProcessPool:
            self._replace_broken()
            return "error: the speech-recognition workers stopped"
        except TimeoutError:
            return f"error: speech recognition did not answer within {timeout:g} s"
        return "ok"

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


@functools.cache
def shared_decoder_pool(size: int | None = None) -> DecoderPool:
    return DecoderPool(size)


class StreamingTranscriber:
    """One utterance at a time: ``start``, ``feed`` (partial text), ``finish`` (final text).

    When the child goes quiet, the final decode starts at once (speculatively): by the time the VAD's hangover
    has ended the turn, the transcript is usually ready. Speech that resumes throws the speculation away.
    """

    def __init__(self, pool: DecoderPool, *, partial_every_seconds: float = PARTIAL_EVERY_SECONDS) -> None:
        self._pool = pool
        self._partial_every = int(partial_every_seconds * _BYTES_PER_SECOND)
        self._audio = bytearray()
        self._unframed = bytearray()
        self._vad = webrtcvad.Vad(3)
        self._quiet_ms = 0
        self._voiced_ms = 0
        self._early_final: asyncio.Task[Transcript] | None = None
        self._active = False
        self._partial_task: asyncio.Task[None] | None = None
        self._decoded_up_to = 0
        self._partial = ""
        self._unsent_partial: str | None = None

    @property
    def active(self) -> bool:
        return self._active

    async def start(self) -> None:
        await self.abandon()
        self._active = True

    async def feed(self, pcm: bytes) -> str | None:
        """Take more audio; returns a new partial transcript when one is ready (it never waits for one)."""
        if not self._active:
            raise RuntimeError("feed() before start()")
        self._audio.extend(pcm)
        await self._follow_quiet(pcm)
        idle = self._partial_task is None or self._partial_task.done()
        due = len(self._audio) - self._decoded_up_to >= self._partial_every
        if idle and due and self._pool.has_room_for_a_partial(first=not self._partial):
            self._decoded_up_to = len(self._audio)
            self._partial_task = asyncio.create_task(self._decode_partial(bytes(self._audio)))
        partial, self._unsent_partial = self._unsent_partial, None
        return partial

    async def _follow_quiet(self, pcm: bytes) -> None:
        self._unframed.extend(pcm)
        voiced = False
        while len(self._unframed) >= _FRAME_BYTES:
            frame = bytes(self._unframed[:_FRAME_BYTES])
            del self._unframed[:_FRAME_BYTES]
            if self._vad.is_speech(frame, SAMPLE_RATE):
                voiced = True
                self._quiet_ms = 0
                self._voiced_ms += _FRAME_MS
            else:
                self._quiet_ms += _FRAME_MS
        if voiced and self._early_final is not None:  # the child went on: that transcript would be cut short
            early, self._early_final = self._early_final, None
            await _cancel_transcript(early)
        if (
            self._early_final is None
            and self._voiced_ms >= MIN_SPEECH_FOR_EARLY_FINAL_MS
            and self._quiet_ms >= EARLY_FINAL_QUIET_MS
            and self._pool.has_room_for_a_partial(first=True)  # a gamble: never queue it behind others' finals
        ):
            self._early_final = asyncio.create_task(self._pool.transcribe(bytes(self._audio)))

    def looks_finished(self) -> bool:
        """The child is quiet and the transcript of everything said is ready and ends a sentence (Whisper
        punctuates): the turn can end before the full VAD hangover."""
        early = self._early_final
        if early is None or not early.done() or early.cancelled() or early.exception() is not None:
            return False
        text = early.result().heard
        return bool(text) and text.rstrip().endswith((".", "?", "!"))

    async def _decode_partial(self, pcm: bytes) -> None:
        try:
            text = (await self._pool.transcribe(pcm)).heard
        except RecognitionFailed:
            return  # the final transcript will try again; a missing caption is not worth a turn
        if text and text != self._partial:
            self._partial = self._unsent_partial = text

    async def finish(self) -> str:
        """The final transcript of the utterance ("" when nothing clear was heard, or recognition failed)."""
        if not self._active:
            return ""
        audio = bytes(self._audio)
        early, self._early_final = self._early_final, None  # nothing but quiet came after it started
        await self.abandon()
        started = time.monotonic()
        try:
            text = (await early if early is not None else await self._pool.transcribe(audio)).heard
        except RecognitionFailed:
            logger.exception("The final transcript failed")
            return ""
        if time.monotonic() - started > LATE_FINAL_SECONDS:
            self._pool.record_failure(f"a final transcript took {time.monotonic() - started:.1f} s")
        return text

    async def abandon(self) -> None:
        """Forget the utterance (the connection closed mid-sentence)."""
        task, self._partial_task = self._partial_task, None
        await cancel_and_wait(task)
        early, self._early_final = self._early_final, None
        if early is not None:
            await _cancel_transcript(early)
        self._active = False
        self._unframed.clear()
        self._vad = webrtcvad.Vad(3)  # fresh per utterance: it adapts to the stream
        self._quiet_ms = 0
        self._voiced_ms = 0
        self._audio.clear()
        self._decoded_up_to = 0
        self._partial = ""
        self._unsent_partial = None


async def _cancel_transcript(task: asyncio.Task[Transcript]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, RecognitionFailed):
        await task


async def transcribe(pool: DecoderPool, pcm: bytes) -> str:
    """A whole utterance at once ("" when nothing clear was heard)."""
    return (await pool.transcribe(pcm)).heard
