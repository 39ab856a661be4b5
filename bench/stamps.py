"""Frame stamps: which client sent an uplink frame, and its number, hidden in the frame's least significant bits.

The relays pass audio through untouched, so the emulator can tell exactly which frame arrived when, whatever
path it took. Changing the lowest bit of 32 samples is far below anything a voice detector hears.
"""

from __future__ import annotations

import numpy as np

FRAME_BYTES = 640  # the 20 ms of 16 kHz PCM16 every benchmark client sends at a time
STAMP_BITS = 32
CLIENT_BITS = 12  # up to 4096 clients
SEQUENCE_BITS = STAMP_BITS - CLIENT_BITS  # about 5.8 hours of 20 ms frames
_SHIFTS = np.arange(STAMP_BITS - 1, -1, -1, dtype=np.uint64)


def stamp_frames(frames: np.ndarray, client: int, first_sequence: int) -> list[bytes]:
    """Each row of ``frames`` (PCM16 samples, at least 32 a row) stamped with ``client`` and its sequence number."""
    sequences = np.arange(first_sequence, first_sequence + len(frames), dtype=np.uint64)
    values = (np.uint64(client) << np.uint64(SEQUENCE_BITS)) | (sequences & np.uint64((1 << SEQUENCE_BITS) - 1))
    bits = ((values[:, None] >> _SHIFTS[None, :]) & np.uint64(1)).astype("<i2")
    stamped = frames.astype("<i2", copy=True)
    stamped[:, :STAMP_BITS] = (stamped[:, :STAMP_BITS] & ~1) | bits
    return [row.tobytes() for row in stamped]


def read_stamps(audio: bytes, *, frame_count: int) -> list[tuple[int, int]]:
    """``(client, sequence)`` of each of ``frame_count`` equal frames that make up ``audio``."""
    if frame_count == 0:
        return []
    frames = np.frombuffer(audio, dtype="<i2").reshape(frame_count, -1)
    values = ((frames[:, :STAMP_BITS] & 1).astype(np.uint64) << _SHIFTS[None, :]).sum(axis=1)
    return [(int(v) >> SEQUENCE_BITS, int(v) & ((1 << SEQUENCE_BITS) - 1)) for v in values]
