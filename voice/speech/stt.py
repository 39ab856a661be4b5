"""Streaming speech-to-text with pocketsphinx's bundled en-US model, from a bounded pool of decoders."""

from __future__ import annotations

import asyncio
import collections
import functools
import threading
from collections.abc import Callable

from pocketsphinx import Decoder

from voice.speech.workers import run_cpu

DEFAULT_DECODERS = 3


def _new_decoder() -> Decoder:
    # bestpath=False: the final hypothesis equals the last partial, and accuracy was better on our speech.
    return Decoder(bestpath=False, loglevel="FATAL")


class DecoderPool:
    """At most ``size`` decoders (about 90 MB each) shared by every connection of the process.

    A connection holds a decoder only while the child is speaking. When all are busy, the next speaker
    waits for one; its audio is kept meanwhile, so nothing is lost, only delayed.
    """

    def __init__(self, size: int = DEFAULT_DECODERS, factory: Callable[[], Decoder] = _new_decoder) -> None:
        if size < 1:
            raise ValueError("A decoder pool needs at least one decoder.")
        self.size = size
        self._factory = factory
        self._free: list[Decoder] = []
        self._created = 0
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[Decoder]]] = (
            collections.deque()
        )
        self._lock = threading.Lock()

    @property
    def busy(self) -> int:
        with self._lock:
            return self._created - len(self._free)

    async def acquire(self) -> Decoder:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free:
                return self._free.pop()
            create = self._created < self.size
            if create:
                self._created += 1
            else:
                waiter: asyncio.Future[Decoder] = loop.create_future()
                self._waiters.append((loop, waiter))
        if create:
            try:
                return await run_cpu(self._factory)
            except BaseException:
                with self._lock:
                    self._created -= 1
                raise
        return await waiter

    def release(self, decoder: Decoder) -> None:
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if not waiter.done() and not loop.is_closed():
                    loop.call_soon_threadsafe(self._hand_over, waiter, decoder)
                    return
            self._free.append(decoder)

    def _hand_over(self, waiter: asyncio.Future[Decoder], decoder: Decoder) -> None:
        if waiter.done():  # the waiter gave up (cancelled) after it was chosen
            self.release(decoder)
        else:
            waiter.set_result(decoder)


@functools.cache
def shared_decoder_pool(size: int = DEFAULT_DECODERS) -> DecoderPool:
    return DecoderPool(size)


class StreamingTranscriber:
    """One utterance at a time: ``start``, ``feed`` (partial text), ``finish`` (final text)."""

    def __init__(self, pool: DecoderPool) -> None:
        self._pool = pool
        self._decoder: Decoder | None = None
        self._partial = ""

    @property
    def active(self) -> bool:
        return self._decoder is not None

    async def start(self) -> None:
        decoder = await self._pool.acquire()
        try:
            await run_cpu(decoder.start_utt)
        except BaseException:
            self._pool.release(decoder)
            raise
        self._decoder = decoder
        self._partial = ""

    async def feed(self, pcm: bytes) -> str | None:
        """Decode more audio; returns the partial transcript when it changed."""
        if self._decoder is None:
            raise RuntimeError("feed() before start()")
        text = await run_cpu(_decode_more, self._decoder, pcm)
        if text != self._partial:
            self._partial = text
            return text
        return None

    async def finish(self) -> str:
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return ""
        try:
            return await run_cpu(_end_utterance, decoder)
        finally:
            self._pool.release(decoder)

    async def abandon(self) -> None:
        """Give the decoder back without a result (the connection closed mid-utterance)."""
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            try:
                await run_cpu(_end_utterance, decoder)
            finally:
                self._pool.release(decoder)


def _decode_more(decoder: Decoder, pcm: bytes) -> str:
    decoder.process_raw(pcm, no_search=False, full_utt=False)
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def _end_utterance(decoder: Decoder) -> str:
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


async def transcribe(pool: DecoderPool, pcm: bytes) -> str:
    """A whole utterance at once."""
    transcriber = StreamingTranscriber(pool)
    await transcriber.start()
    try:
        await transcriber.feed(pcm)
    except BaseException:
        await transcriber.abandon()
        raise
    return await transcriber.finish()
