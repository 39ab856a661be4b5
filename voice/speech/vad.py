"""Voice activity detection per stream (webrtcvad): onset, pre-roll, and a hangover cut short for complete sentences."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass

import webrtcvad

FRAME_MS = 20
FRAME_BYTES = 16_000 * FRAME_MS // 1000 * 2


@dataclass(frozen=True)
class VadSettings:
    """How eager the detector is; every stream gets a fresh detector built from these."""

    aggressiveness: int = 3  # webrtcvad mode 0-3: 3 rejects the most non-speech
    onset_ms: int = 120  # speech must last this long before a turn starts (noise adapts in the first frames)
    hangover_ms: int = 300  # this much quiet ends the turn
    early_end_ms: int = 200  # ...or this much, when the recogniser says the sentence is complete
    preroll_ms: int = 300  # audio kept from before the onset, so the first syllable is not clipped


DEFAULT_VAD = VadSettings()


@dataclass(frozen=True)
class SpeechStarted:
    audio: bytes  # the pre-roll and the onset frames


@dataclass(frozen=True)
class SpeechContinues:
    audio: bytes


@dataclass(frozen=True)
class SpeechEnded:
    pass


SpeechEvent = SpeechStarted | SpeechContinues | SpeechEnded


class SpeechDetector:
    """Splits a 16 kHz PCM16 stream into speech segments; create one per stream (webrtcvad adapts to it)."""

    def __init__(self, settings: VadSettings = DEFAULT_VAD, *, finished: Callable[[], bool] | None = None) -> None:
        """``finished``, when given, says whether what was heard is a complete sentence: then a shorter
        quiet (``early_end_ms``) ends the turn."""
        self.settings = settings
        self._finished = finished
        self._vad = webrtcvad.Vad(settings.aggressiveness)
        self._pending = bytearray()
        self._preroll: collections.deque[bytes] = collections.deque(maxlen=max(1, settings.preroll_ms // FRAME_MS))
        self._onset: list[bytes] = []
        self._quiet_frames = 0
        self.in_speech = False

    def feed(self, pcm: bytes) -> list[SpeechEvent]:
        self._pending.extend(pcm)
        events: list[SpeechEvent] = []
        speech = bytearray()
        while len(self._pending) >= FRAME_BYTES:
            frame = bytes(self._pending[:FRAME_BYTES])
            del self._pending[:FRAME_BYTES]
            voiced = self._vad.is_speech(frame, 16_000)
            if self.in_speech:
                speech.extend(frame)
                self._quiet_frames = 0 if voiced else self._quiet_frames + 1
                if self._turn_over():
                    events.append(SpeechContinues(bytes(speech)))
                    speech.clear()
                    events.append(self._end())
                continue
            if voiced:
                self._onset.append(frame)
                if len(self._onset) * FRAME_MS >= self.settings.onset_ms:
                    self.in_speech = True
                    self._quiet_frames = 0
                    events.append(SpeechStarted(b"".join(self._preroll) + b"".join(self._onset)))
                    self._preroll.clear()
                    self._onset.clear()
            else:
                for held in self._onset:
                    self._preroll.append(held)
                self._onset.clear()
                self._preroll.append(frame)
        if speech:
            events.append(SpeechContinues(bytes(speech)))
        return events

    def _turn_over(self) -> bool:
        quiet_ms = self._quiet_frames * FRAME_MS
        if quiet_ms >= self.settings.hangover_ms:
            return True
        return self._finished is not None and quiet_ms >= self.settings.early_end_ms and self._finished()

    def flush(self) -> list[SpeechEvent]:
        """End the current segment now (the microphone stopped)."""
        if not self.in_speech:
            self._onset.clear()
            return []
        return [self._end()]

    def _end(self) -> SpeechEnded:
        self.in_speech = False
        self._quiet_frames = 0
        return SpeechEnded()
