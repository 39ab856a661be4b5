"""The benchmark's emulator timings: one entry per stamped frame, also when a relay joined frames; replies and bytes."""

from __future__ import annotations

import numpy as np

from bench.relay_emulator import Timings
from bench.stamps import FRAME_BYTES, stamp_frames
from gemini_emulator.records import ConnectionRecord
from gemini_emulator.server import GeminiLiveEmulator


def test_frames_joined_into_one_message_each_get_its_arrival_time() -> None:
    emulator = GeminiLiveEmulator()
    record = ConnectionRecord(number=1, path="/ws", api_version="v1beta")
    emulator.records.append(record)
    frames = stamp_frames(np.zeros((3, FRAME_BYTES // 2), "<i2"), client=5, first_sequence=10)
    record.audio.extend(frames[0])
    record.audio_arrivals.append((1.0, FRAME_BYTES))
    record.audio.extend(frames[1] + frames[2])
    record.audio_arrivals.append((2.0, 2 * FRAME_BYTES))
    record.reply_starts.append(len(record.sent_chunks))
    record.sent_chunks.append((3.0, 9600))
    record.bytes_received, record.bytes_sent = 4321, 12_900
    record.ended_at = record.opened_at + 2.5

    timings = Timings(emulator)
    timings.collect()
    assert not record.audio, "the audio is let go of once its stamps are read"
    assert timings.report() == [
        {
            "uplink": [[5, 10, 1.0], [5, 11, 2.0], [5, 12, 2.0]],
            "downlink": [3.0],
            "reply_starts": [0],
            "closed_with": None,
            "bytes_received": 4321,
            "bytes_sent": 12_900,
            "seconds": 2.5,
        }
    ]
