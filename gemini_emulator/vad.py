"""The emulator's server-side voice activity detection: energy per 20 ms frame, with onset and hangover."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

FRAME_BYTES = 640  # 20 ms of 16 kHz PCM16
FRAME_MS = 20


class VadEvent(enum.Enum):
    SPEECH_STARTED = "speech_started"
    SPEECH_ENDED = "speech_ended"


@dataclass
class EnergyVad:
    """Speech starts after ``onset_ms`` of loud frames and ends after ``silence_ms`` of quiet ones.

    Energy, not a neural model: deterministic, so tests know exactly when a turn ends.
    """

    onset_ms: int = 60
    silence_ms: int = 400
    threshold_rms: float = 300.0
    prefix_ms: int = 300
    in_speech: bool = False
    _pending: bytearray = field(default_factory=bytearray)
    _loud_frames: int = 0
    _quiet_frames: int = 0
    _preroll: bytearray = field(default_factory=bytearray)
    speech: bytearray = field(default_factory=bytearray)

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Consume audio; return the events it caused. ``speech`` holds the current turn's audio."""
        self._pending.extend(pcm)
        events: list[VadEvent] = []
        while len(self._pending) >= FRAME_BYTES:
            frame = bytes(self._pending[:FRAME_BYTES])
            del self._pending[:FRAME_BYTES]
            event = self._frame(frame)
            if event is not None:
                events.append(event)
        return events

    def _frame(self, frame: bytes) -> VadEvent | None:
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        loud = float(np.sqrt(np.mean(samples * samples))) >= self.threshold_rms
        if not self.in_speech:
            self._preroll.extend(frame)
            del self._preroll[: max(0, len(self._preroll) - self.prefix_ms * 32)]
            self._loud_frames = self._loud_frames + 1 if loud else 0
            if self._loud_frames * FRAME_MS >= self.onset_ms:
                self.in_speech = True
                self._quiet_frames = 0
                self.speech = bytearray(self._preroll)
                self._preroll.clear()
                return VadEvent.SPEECH_STARTED
            return None
        self.speech.extend(frame)
        self._quiet_frames = 0 if loud else self._quiet_frames + 1
        if self._quiet_frames * FRAME_MS >= self.silence_ms:
            return self.end()
        return None

    def end(self) -> VadEvent | None:
        """End the current speech now (``audioStreamEnd``); None when there was none."""
        if not self.in_speech:
            return None
        self.in_speech = False
        self._loud_frames = 0
        return VadEvent.SPEECH_ENDED

    def take_speech(self) -> bytes:
        speech, self.speech = bytes(self.speech), bytearray()
        return speech
