"""Streaming speech-to-text: Whisper tiny.en in a pool of worker processes, off the event loop and the GIL.

While the child talks, the growing utterance is re-decoded now and then for partial captions (only on a worker
that can be spared, never while a final transcript waits); at the end of speech the whole utterance is decoded
once more for the final transcript. Final transcripts that wait for a worker are decoded together, in batches.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

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
CAPTION_NICENESS = 10  # partial captions yield the CPU to final transcripts
MAX_BATCH = 4  # finals decoded together at most (a batch of 4: ~0.7x the time of 4 in a row, measured)
PROBE_PCM = bytes(SAMPLE_RATE)  # one second of silence: the health probe's question
_BYTES_PER_SECOND = SAMPLE_RATE * 2


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class RecognitionFailed(RuntimeError):
    """No worker could transcribe the audio (the workers died, or did not answer in time)."""


# --- inside a worker process ------------------------------------------------------------------------

_worker_recognizer: WhisperRecognizer | None = None


def _load_in_worker(threads: int, niceness: int) -> None:
    global _worker_recognizer
    if niceness:
        os.nice(niceness)
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


def _transcribe_in_worker(utterances: list[bytes]) -> list[Transcript]:
    if _worker_recognizer is None:
        raise RecognitionFailed("the worker has no model loaded")
    return _worker_recognizer.transcribe_batch(utterances)


# --- in the service ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Request:
    pcm: bytes
    result: Future[Transcript] = field(default_factory=Future)


class _Workers:
    """Worker processes with a Whisper model each, started with ``spawn`` (a fresh interpreter: nothing of the
    service's threads is copied), at a given CPU priority; after they break, the next use starts new ones."""

    def __init__(self, size: int, *, threads: int, niceness: int) -> None:
        self.size = size
        self._initargs = (threads, niceness)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        with self._lock:
            return self._executor is not None

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.size,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_load_in_worker,
                    initargs=self._initargs,
                )
            return self._executor

    def forget(self, broken: ProcessPoolExecutor) -> bool:
        """Drop a broken executor, once however many decodes saw it break; True the first time."""
        with self._lock:
            if self._executor is not broken:
                return False
            self._executor = None
            return True

    def pids(self) -> list[int]:
        with self._lock:
            # ProcessPoolExecutor keeps its processes by pid; there is no public accessor.
            return list(self._executor._processes or {}) if self._executor is not None else []

    def alive(self) -> bool:
        with self._lock:
            processes = dict(self._executor._processes or {}) if self._executor is not None else {}
        return all(process.is_alive() for process in processes.values())

    def warm(self, timeout: float) -> None:
        executor = self.executor()
        for warmed in [executor.submit(_transcribe_in_worker, [PROBE_PCM]) for _ in range(self.size)]:
            warmed.result(timeout)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class DecoderPool:
    """Whisper in worker processes (about 150 MB each), shared by every connection.

    Final transcripts are the answer, partial captions only cosmetic, so they run on different workers:

    - ``size`` final workers. Finals wait in the pool's own queue; a worker that comes free takes its share of
      the ones waiting (an even share per worker, at most ``max_batch``) as one batched decode.
    - ``caption_workers`` (default 1) at a low CPU priority for partials. A partial starts at once on an idle
      caption worker or not at all (never while a final waits): then that caption is skipped. When finals
      need the CPU, the operating system gives it to them; a partial already running is held back, not them.
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        threads_per_worker: int = 1,
        caption_workers: int = 1,
        max_batch: int = MAX_BATCH,
    ) -> None:
        size = default_workers() if size is None else size
        if size < 1:
            raise ValueError("A decoder pool needs at least one worker.")
        self.size = size
        self.max_batch = max_batch
        self._finals_workers = _Workers(size, threads=threads_per_worker, niceness=0)
        self._caption_workers = _Workers(max(0, caption_workers), threads=threads_per_worker, niceness=CAPTION_NICENESS)
        self._lock = threading.Lock()
        self._busy = 0  # final workers given a batch that has not come back
        self._captioning = 0  # caption workers given a partial that has not come back
        self._finals: collections.deque[_Request] = collections.deque()
        self._failures: list[tuple[float, str]] = []
        self.batch_sizes: collections.Counter[int] = collections.Counter()  # finals per decode, for benchmarks

    def _all_workers(self) -> list[_Workers]:
        return [self._finals_workers] + ([self._caption_workers] if self._caption_workers.size else [])

    def start(self, timeout: float = 120.0) -> None:
        """Start every worker and load its model now (blocking), instead of at the first question.

        Raises:
            RecognizerMissing: the model or its runtime is not installed (said here, not in a worker).
        """
        check_installed()
        for workers in self._all_workers():
            workers.warm(timeout)

    def workers_alive(self) -> bool:
        """No worker process that was started has died (a pool that has not started any counts as alive)."""
        return all(workers.alive() for workers in self._all_workers())

    def worker_pids(self) -> list[int]:
        return [pid for workers in self._all_workers() for pid in workers.pids()]

    def waiting_finals(self) -> int:
        with self._lock:
            return len(self._finals)

    def submit_final(self, pcm: bytes) -> Future[Transcript]:
        """Queue a final transcript; cancelling the future withdraws it while it still waits."""
        request = _Request(pcm[-int(MAX_UTTERANCE_SECONDS * _BYTES_PER_SECOND) :])
        with self._lock:
            self._finals.append(request)
        self._dispatch()
        return request.result

    def try_partial(self, pcm: bytes) -> Future[Transcript] | None:
        """Start a partial decode now on an idle caption worker, or None: this caption is skipped. The check
        and the reservation are one step, so many streams asking at once cannot overbook a worker."""
        with self._lock:
            if self._finals or self._captioning >= self._caption_workers.size:
                return None
            self._captioning += 1
        request = _Request(pcm[-int(MAX_UTTERANCE_SECONDS * _BYTES_PER_SECOND) :])
        request.result.set_running_or_notify_cancel()
        self._run([request], self._caption_workers, final=False)
        return request.result

    def _dispatch(self) -> None:
        """Give waiting finals to free final workers: each takes its share of the queue as one batch."""
        while True:
            with self._lock:
                free = self.size - self._busy
                if free <= 0 or not self._finals:
                    return
                # An even share per worker, busy ones included: a smaller batch now beats a bigger one now and
                # an idle worker in a moment (the whole batch finishes together).
                share = min(self.max_batch, -(-len(self._finals) // self.size))
                batch: list[_Request] = []
                while self._finals and len(batch) < share:
                    request = self._finals.popleft()
                    if request.result.set_running_or_notify_cancel():  # False: withdrawn while it waited
                        batch.append(request)
                if not batch:
                    continue
                self._busy += 1
                self.batch_sizes[len(batch)] += 1
            self._run(batch, self._finals_workers, final=True)

    def _run(self, batch: list[_Request], workers: _Workers, *, final: bool) -> None:
        executor = workers.executor()
        try:
            decoding = executor.submit(_transcribe_in_worker, [request.pcm for request in batch])
        except BrokenProcessPool as error:
            self._forget(workers, executor)
            self._finished(batch, final=final, error=error)
            return
        except RuntimeError:  # shut down by close() meanwhile
            self._finished(batch, final=final, error=RecognitionFailed("the recognition workers were shut down"))
            return
        decoding.add_done_callback(lambda done: self._decoded(batch, workers, executor, done, final=final))

    def _decoded(
        self,
        batch: list[_Request],
        workers: _Workers,
        executor: ProcessPoolExecutor,
        done: Future[list[Transcript]],
        *,
        final: bool,
    ) -> None:
        # Runs on the executor's own thread: hand out the transcripts, then give the free worker more work.
        if done.cancelled():
            self._finished(batch, final=final, error=RecognitionFailed("the recognition workers were shut down"))
        elif (error := done.exception()) is not None:
            if isinstance(error, BrokenProcessPool):
                self._forget(workers, executor)
            self._finished(batch, final=final, error=error)
        else:
            self._finished(batch, final=final, transcripts=done.result())

    def _finished(
        self,
        batch: list[_Request],
        *,
        final: bool,
        transcripts: list[Transcript] | None = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            if final:
                self._busy -= 1
            else:
                self._captioning -= 1
        for number, request in enumerate(batch):
            if transcripts is not None:
                request.result.set_result(transcripts[number])
            else:
                request.result.set_exception(error or RecognitionFailed("no transcript"))
        self._dispatch()

    def _forget(self, workers: _Workers, broken: ProcessPoolExecutor) -> None:
        if workers.forget(broken):
            self.record_failure("the speech-recognition workers stopped; starting new ones")

    async def transcribe(self, pcm: bytes) -> Transcript:
        """Whisper's final transcript of 16 kHz PCM16 (the last ``MAX_UTTERANCE_SECONDS`` of it).

        Raises:
            RecognitionFailed: the workers died twice in a row, or did not answer in time.
        """
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(asyncio.wrap_future(self.submit_final(pcm)), FINAL_TIMEOUT_SECONDS)
            except BrokenProcessPool:
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
        """``ok`` when a worker transcribes a second of audio in time, else the reason (blocking).

        The probe waits its turn behind the children's final transcripts, like any final transcript.
        """
        if not self._finals_workers.started:  # never warmed up (a management command, a test): start them now
            self.start()
            return "ok"
        probe = self.submit_final(PROBE_PCM)
        try:
            probe.result(timeout)
        except BrokenProcessPool:
            return "error: the speech-recognition workers stopped"
        except TimeoutError:
            probe.cancel()
            return f"error: speech recognition did not answer within {timeout:g} s"
        return "ok"

    def close(self) -> None:
        with self._lock:
            waiting, self._finals = list(self._finals), collections.deque()
        for request in waiting:
            request.result.cancel()
        for workers in self._all_workers():
            workers.close()


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
        if idle and due and (decoding := self._pool.try_partial(bytes(self._audio))):
            self._decoded_up_to = len(self._audio)
            self._partial_task = asyncio.create_task(self._caption_from(decoding))
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
        ):
            # Queued as a final: it is this turn's transcript unless the child goes on, and then it is withdrawn
            # from the queue (cancelled) before it costs a decode, unless a worker had taken it already.
            self._early_final = asyncio.create_task(self._pool.transcribe(bytes(self._audio)))

    def looks_finished(self) -> bool:
        """The child is quiet and the transcript of everything said is ready and ends a sentence (Whisper
        punctuates): the turn can end before the full VAD hangover."""
        early = self._early_final
        if early is None or not early.done() or early.cancelled() or early.exception() is not None:
            return False
        text = early.result().heard
        return bool(text) and text.rstrip().endswith((".", "?", "!"))

    async def _caption_from(self, decoding: Future[Transcript]) -> None:
        try:
            text = (await asyncio.wait_for(asyncio.wrap_future(decoding), FINAL_TIMEOUT_SECONDS)).heard
        except (RecognitionFailed, BrokenProcessPool, TimeoutError):
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
