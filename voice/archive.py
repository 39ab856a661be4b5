"""Opt-in keeping of a connection's raw microphone audio (debugging, browser tests); off unless configured."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path


class UplinkArchive:
    """Collects the validated 16 kHz PCM16 a connection received, and writes it to one file when it closes."""

    def __init__(self, directory: Path, session_id: str) -> None:
        self.path = directory / f"{session_id}-{time.time_ns()}.pcm"
        self._audio = bytearray()

    @staticmethod
    def recordings(directory: Path, session_id: str) -> list[Path]:
        """Every file kept for a session (one per connection)."""
        return sorted(directory.glob(f"{session_id}-*.pcm"))

    def add(self, pcm: bytes) -> None:
        self._audio.extend(pcm)

    async def close(self) -> None:
        audio, self._audio = bytes(self._audio), bytearray()
        if audio:
            await asyncio.to_thread(self._write, audio)

    def _write(self, audio: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(audio)
