"""The barge-in detector: the child's voice over the helper cuts in; quiet noise and faint echo do not."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from tests.speech import spoken_question
from voice.audio import float_to_pcm16, pcm16_to_float
from voice.engines.live.bargein import BargeInDetector, BargeInSettings, frame_level_dbfs

FRAME = 640


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]


def first_fire(detector: BargeInDetector, pcm: bytes, *, playing: bool = True) -> float | None:
    for number, frame in enumerate(frames(pcm)):
        if detector.feed(frame, helper_playing=playing):
            return (number + 1) * 0.02
    return None


def scaled(pcm: bytes, db: float) -> bytes:
    return float_to_pcm16(pcm16_to_float(pcm) * 10 ** (db / 20))


def noise(seconds: float, dbfs: float) -> bytes:
    samples = np.random.default_rng(3).normal(0.0, 10 ** (dbfs / 20), int(seconds * 16_000)).astype(np.float32)
    return float_to_pcm16(samples)


@pytest.fixture(scope="module")
def question() -> bytes:
    return asyncio.run(spoken_question("How do I open the red door?", lead_seconds=0.5, tail_seconds=0.0))


def test_the_childs_voice_cuts_in_once_the_minimum_speech_is_heard(question) -> None:
    detector = BargeInDetector(BargeInSettings(min_speech_ms=120))
    fired = first_fire(detector, question)
    assert fired is not None
    assert 0.5 + 0.12 <= fired < 0.5 + 0.6


def test_a_longer_minimum_waits_for_more_speech(question) -> None:
    quick = first_fire(BargeInDetector(BargeInSettings(min_speech_ms=60)), question)
    patient = first_fire(BargeInDetector(BargeInSettings(min_speech_ms=240)), question)
    assert quick is not None and patient is not None
    assert patient >= quick + 0.18


def test_nothing_is_examined_while_the_helper_is_silent(question) -> None:
    detector = BargeInDetector()
    assert first_fire(detector, question, playing=False) is None
    assert detector.speech_frames_seen == 0


def test_the_helpers_echo_30_db_down_does_not_cut_in(question) -> None:
    # The helper's voice as the echo canceller leaves it: 30 dB below a reply at about -20 dBFS.
    echo = scaled(question, -30.0)
    assert first_fire(BargeInDetector(), echo) is None


def test_the_level_floor_decides_what_counts_as_speech(question) -> None:
    soft = scaled(question, -30.0)
    assert first_fire(BargeInDetector(BargeInSettings(min_level_dbfs=-70.0)), soft) is not None


def test_quiet_room_noise_does_not_cut_in() -> None:
    assert first_fire(BargeInDetector(), noise(3.0, -55.0)) is None


def test_frames_of_any_size_are_reassembled(question) -> None:
    detector = BargeInDetector()
    odd_pieces = [question[i : i + 1000] for i in range(0, len(question), 1000)]
    fired_at = next((n for n, piece in enumerate(odd_pieces) if detector.feed(piece, helper_playing=True)), None)
    whole = first_fire(BargeInDetector(), question)
    assert fired_at is not None and whole is not None
    assert abs((fired_at + 1) * 1000 / 32_000 - whole) < 1000 / 32_000 + 0.02


def test_frame_level_is_in_dbfs() -> None:
    full_scale_square = (b"\xff\x7f" + b"\x01\x80") * 160
    assert frame_level_dbfs(full_scale_square) == pytest.approx(0.0, abs=0.01)
    assert frame_level_dbfs(bytes(640)) == -math.inf
    assert frame_level_dbfs(float_to_pcm16(np.full(320, 0.01, np.float32)), stride=4) == pytest.approx(-40, abs=0.1)
