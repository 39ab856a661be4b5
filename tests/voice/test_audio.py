"""PCM helpers."""

from __future__ import annotations

import math

import numpy as np

from voice.audio import chunks, duration_seconds, float_to_pcm16, pcm16_to_float, resample, rms_dbfs


def test_conversion_clamps_instead_of_wrapping() -> None:
    pcm = float_to_pcm16(np.array([2.0, -2.0, 0.5], dtype=np.float32))
    assert list(np.frombuffer(pcm, "<i2")) == [32767, -32767, 16383]
    assert abs(pcm16_to_float(pcm)[2] - 0.5) < 1e-3


def test_resampling_keeps_the_duration() -> None:
    tone = np.sin(np.arange(22050) / 22050 * 2 * np.pi * 220).astype(np.float32)
    assert abs(resample(tone, 22050, 24000).size - 24000) <= 1


def test_loudness_and_duration() -> None:
    assert rms_dbfs(bytes(640)) == -math.inf
    assert -7 < rms_dbfs(float_to_pcm16(np.full(160, 0.5, np.float32))) < -5
    assert duration_seconds(bytes(48000), 24000) == 1.0
    assert [len(c) for c in chunks(bytes(10), 4)] == [4, 4, 2]
