"""The emulator's energy VAD: onset, hangover and pre-roll."""

from __future__ import annotations

from gemini_emulator.vad import EnergyVad, VadEvent
from tests.gemini_emulator.conftest import silence, voiced


def test_speech_starts_after_the_onset_and_ends_after_the_silence() -> None:
    vad = EnergyVad(onset_ms=60, silence_ms=200)
    assert vad.feed(silence(0.5)) == []
    assert vad.feed(voiced(0.04)) == []
    assert vad.feed(voiced(0.04)) == [VadEvent.SPEECH_STARTED]
    assert vad.feed(silence(0.18)) == []
    assert vad.feed(silence(0.04)) == [VadEvent.SPEECH_ENDED]


def test_the_turn_keeps_the_pre_roll_before_the_onset() -> None:
    vad = EnergyVad(onset_ms=60, silence_ms=200, prefix_ms=100)
    vad.feed(silence(1.0) + voiced(0.5) + silence(0.3))
    speech = vad.take_speech()
    assert 0.5 * 32000 < len(speech) < (0.1 + 0.5 + 0.3) * 32000 + 640


def test_end_without_speech_is_nothing() -> None:
    assert EnergyVad().end() is None
