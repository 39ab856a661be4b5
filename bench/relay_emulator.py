"""The Gemini Live emulator as the relay benchmark runs it: in its own process, reporting when each frame moved.

Run by ``bench.relay``; prints one JSON line (``base_url``, ``ca_file``, ``api_key``), then waits for a line on
stdin naming a file, writes the timings there and exits.

Timings, one entry per connection: the stamp of every uplink frame (see ``bench.stamps``) with the moment it
arrived, and the moment every reply audio chunk was sent. Times are ``time.monotonic()``, which on Linux is one
clock for every process, so the harness can compare them with its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.stamps import FRAME_BYTES, read_stamps
from gemini_emulator.responders import ScriptedResponder
from gemini_emulator.server import GeminiLiveEmulator

# About three seconds of reply audio (0.03 s a character): enough chunks per turn to measure the downlink.
REPLY = (
    "That is a good question! Look at the red door, then look around the room for something shiny that could open it."
)


class Timings:
    """Each connection's frame timings, taken out of the emulator's records as they come, so that the audio
    they hold does not pile up over a long run."""

    def __init__(self, emulator: GeminiLiveEmulator) -> None:
        self._emulator = emulator
        self._uplink: dict[int, list[list[float]]] = {}

    def collect(self) -> None:
        for record in self._emulator.records:
            arrivals, record.audio_arrivals = record.audio_arrivals, []
            audio = bytes(record.audio)
            record.audio.clear()
            if any(size % FRAME_BYTES for _, size in arrivals):
                continue  # not the benchmark's stamped frames
            # A relay may join queued frames into one message: each of them arrived when the message did.
            moments = [moment for moment, size in arrivals for _ in range(size // FRAME_BYTES)]
            stamps = read_stamps(audio, frame_count=len(moments))
            self._uplink.setdefault(record.number, []).extend(
                [client, sequence, moment] for (client, sequence), moment in zip(stamps, moments, strict=True)
            )

    async def collect_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.collect()

    def report(self) -> list[dict[str, Any]]:
        self.collect()
        return [
            {
                "uplink": self._uplink.get(record.number, []),
                "downlink": [moment for moment, _ in record.sent_chunks],
                "reply_starts": record.reply_starts,
                "closed_with": record.closed_with,
                "bytes_received": record.bytes_received,
                "bytes_sent": record.bytes_sent,
                "seconds": (record.ended_at or time.monotonic()) - record.opened_at,
            }
            for record in self._emulator.records
        ]


async def serve(realtime_factor: float, lifetime: float) -> None:
    emulator = GeminiLiveEmulator(
        responder=ScriptedResponder(default_reply=REPLY, max_reply_seconds=3.0),
        api_key="bench-key",
        realtime_factor=realtime_factor,
        lifetime=lifetime,
    )
    async with emulator:
        timings = Timings(emulator)
        collector = asyncio.create_task(timings.collect_every(2.0))
        print(json.dumps({"base_url": emulator.base_url, "ca_file": str(emulator.ca_file), "api_key": "bench-key"}))
        sys.stdout.flush()
        destination = (await asyncio.to_thread(sys.stdin.readline)).strip()
        collector.cancel()
        if destination:
            await asyncio.to_thread(Path(destination).write_text, json.dumps(timings.report()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--realtime-factor", type=float, default=4.0)
    parser.add_argument("--lifetime", type=float, default=600.0, help="seconds before a connection gets goAway")
    args = parser.parse_args()
    uvloop.run(serve(args.realtime_factor, args.lifetime))
