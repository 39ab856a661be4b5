"""PCM16 helpers: conversion, resampling (soxr), loudness and framing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import soxr

from voice.audio_format import BYTES_PER_SAMPLE

FloatArray = npt.NDArray[np.float32]


def pcm16_to_float(pcm: bytes) -> FloatArray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: FloatArray) -> bytes:
    """Clamp to [-1, 1] before converting, so loud audio saturates instead of wrapping around."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    if from_rate == to_rate:
        return samples
    return np.asarray(soxr.resample(samples, from_rate, to_rate, quality="HQ"), dtype=np.float32)


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of PCM16 audio in dB relative to full scale (-inf dB for digital silence)."""
    if not pcm:
        return float("-inf")
    samples = pcm16_to_float(pcm).astype(np.float64)
    power = float(np.mean(samples * samples))
    return 10.0 * float(np.log10(power)) if power > 0 else float("-inf")


def duration_seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / BYTES_PER_SAMPLE / rate


def chunks(pcm: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]
