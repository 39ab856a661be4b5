"""Barge-in on the uplink: the child starts speaking while the helper's audio is still playing."""

from __future__ import annotations

import array
import collections
import math
import operator
import sys
from dataclasses import dataclass

import webrtcvad

from voice.audio_format import INPUT_FRAME_BYTES, INPUT_RATE_HZ

FRAME_MS = 20
LEVEL_STRIDE = 4  # the level of a frame is measured on every 4th sample (80 of 320)
_FULL_SCALE_SQUARED = 32768.0 * 32768.0


@dataclass(frozen=True)
class BargeInSettings:
    """How sure the detector must be that the child, not the room or the helper's echo, is speaking.

    The defaults come from ``python -m bench.bargein`` (docs/benchmarks.md).
    """

    aggressiveness: int = 3  # webrtcvad mode 0-3: 3 rejects the most non-speech
    min_speech_ms: int = 120  # this much voiced audio (in a window a little longer) before the helper is cut
    min_level_dbfs: float = -40.0  # quieter frames never count as speech: echo left by the canceller, room noise
    max_gap_frames: int = 2  # unvoiced frames tolerated among the voiced ones (syllable boundaries)


DEFAULT_BARGE_IN = BargeInSettings()


def frame_level_dbfs(frame: bytes, *, stride: int = 1) -> float:
    """The RMS level of a PCM16 frame in dBFS (-inf for digital silence), from every ``stride``-th sample.

    Plain Python, no numpy: it runs per frame, and a stride of 4 keeps it near the cost of a webrtcvad call.
    """
    samples = array.array("h")
    samples.frombytes(frame)
    if sys.byteorder == "big":
        samples.byteswap()
    if stride > 1:
        samples = samples[::stride]
    if not samples:
        return -math.inf
    energy = sum(map(operator.mul, samples, samples)) / len(samples)
    return 10.0 * math.log10(energy / _FULL_SCALE_SQUARED) if energy else -math.inf


class BargeInDetector:
    """Fed every uplink frame of one child, with whether the helper is audible; says when to cut the helper.

    Frames are only examined while the helper plays: each costs a webrtcvad call, and a voiced one a level
    measurement as well.
    """

    def __init__(self, settings: BargeInSettings = DEFAULT_BARGE_IN) -> None:
        self.settings = settings
        self._vad = webrtcvad.Vad(settings.aggressiveness)
        self._needed = max(1, math.ceil(settings.min_speech_ms / FRAME_MS))
        self._recent: collections.deque[bool] = collections.deque(maxlen=self._needed + settings.max_gap_frames)
        self._voiced = 0  # voiced frames in _recent
        self._pending = bytearray()
        self.speech_frames_seen = 0  # for metrics and tests: voiced frames during playback

    def feed(self, pcm: bytes, *, helper_playing: bool) -> bool:
        """True when this audio completes the speech needed for a barge-in (once; the count starts again)."""
        if not helper_playing:
            self._pending.clear()
            self._reset()
            return False
        self._pending.extend(pcm)
        fired = False
        while len(self._pending) >= INPUT_FRAME_BYTES:
            frame = bytes(self._pending[:INPUT_FRAME_BYTES])
            del self._pending[:INPUT_FRAME_BYTES]
            if self._push(self._is_speech(frame)):
                fired = True
        return fired

    def _is_speech(self, frame: bytes) -> bool:
        # webrtcvad first: it is the cheaper test, and most frames while the child listens fail it.
        if not self._vad.is_speech(frame, INPUT_RATE_HZ):
            return False
        return frame_level_dbfs(frame, stride=LEVEL_STRIDE) >= self.settings.min_level_dbfs

    def _push(self, voiced: bool) -> bool:
        if len(self._recent) == self._recent.maxlen and self._recent[0]:
            self._voiced -= 1
        self._recent.append(voiced)
        if voiced:
            self._voiced += 1
            self.speech_frames_seen += 1
        if not self._recent[0] and self._voiced == 0:
            self._recent.clear()  # a run of speech starts with a voiced frame
        if self._voiced >= self._needed:
            self._reset()
            return True
        return False

    def _reset(self) -> None:
        self._recent.clear()
        self._voiced = 0
