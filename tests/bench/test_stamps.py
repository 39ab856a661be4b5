"""Frame stamps survive the trip and leave the audio as it was, to the lowest bit."""

from __future__ import annotations

import numpy as np

from bench.stamps import FRAME_BYTES, read_stamps, stamp_frames


def test_stamps_read_back_as_written_across_the_sequence_wrap() -> None:
    frames = np.random.default_rng(1).normal(0, 3000, (100, FRAME_BYTES // 2)).astype("<i2")
    stamped = stamp_frames(frames, 4095, (1 << 20) - 50)
    stamps = read_stamps(b"".join(stamped), frame_count=100)
    assert stamps[0] == (4095, (1 << 20) - 50)
    assert stamps[49:51] == [(4095, (1 << 20) - 1), (4095, 0)]


def test_a_stamp_changes_only_the_lowest_bit_of_32_samples() -> None:
    frames = np.random.default_rng(2).normal(0, 3000, (10, FRAME_BYTES // 2)).astype("<i2")
    stamped = np.frombuffer(b"".join(stamp_frames(frames, 7, 0)), "<i2").reshape(frames.shape)
    difference = np.abs(stamped.astype(np.int32) - frames)
    assert difference.max() <= 1
    assert not difference[:, 32:].any()
