"""The playback clock: what the client has played, from what was sent and when, corrected by its reports."""

from __future__ import annotations

import pytest

from voice.engines.live.playback import PlaybackClock

RATE = 24_000


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def clock_at(time: FakeTime, start_delay: float = 0.0) -> PlaybackClock:
    return PlaybackClock(rate=RATE, start_delay=start_delay, clock=time)


def test_audio_sent_faster_than_real_time_is_still_playing_until_its_duration_has_passed(time) -> None:
    clock = clock_at(time)
    clock.start_reply()
    clock.sent(2 * RATE)  # 2 s of audio arrives in one burst
    time.now += 0.5
    assert clock.playing()
    assert clock.reply_played() == RATE // 2
    assert clock.unplayed_seconds() == pytest.approx(1.5)
    time.now += 1.6
    assert not clock.playing()
    assert clock.reply_played() == 2 * RATE


def test_a_client_with_an_empty_queue_starts_after_its_pre_roll(time) -> None:
    clock = clock_at(time, start_delay=0.15)
    clock.sent(RATE)
    time.now += 0.15
    assert clock.played_samples() == 0
    time.now += 0.25
    assert clock.played_samples() == RATE // 4


def test_audio_sent_while_the_queue_plays_is_queued_behind_it(time) -> None:
    clock = clock_at(time)
    clock.sent(RATE)
    time.now += 0.5
    clock.sent(RATE)
    assert clock.unplayed_seconds() == pytest.approx(1.5)


def test_a_client_report_replaces_the_estimate(time) -> None:
    clock = clock_at(time)
    clock.sent(2 * RATE)
    time.now += 1.0
    clock.reported(RATE // 4)  # the client stalled: only 0.25 s played
    assert clock.played_samples() == RATE // 4
    assert clock.unplayed_seconds() == pytest.approx(1.75)
    clock.reported(10 * RATE)  # a report beyond what was sent means everything
    assert not clock.playing()


def test_flushing_returns_the_position_in_the_reply_and_drops_the_rest(time) -> None:
    clock = clock_at(time)
    clock.start_reply()
    clock.sent(RATE)
    time.now += 2.0  # the first reply has played out
    clock.start_reply()
    clock.sent(3 * RATE)
    time.now += 0.3
    assert clock.flush() == round(0.3 * RATE)
    assert not clock.playing()
    assert clock.sent_samples == RATE + round(0.3 * RATE)
    clock.start_reply()
    clock.sent(RATE)  # the next reply starts from an empty client queue
    assert clock.unplayed_seconds() == pytest.approx(1.0)


def test_a_flush_before_the_reply_was_heard_is_at_position_zero(time) -> None:
    clock = clock_at(time, start_delay=0.15)
    clock.start_reply()
    clock.sent(RATE)
    time.now += 0.05
    assert clock.flush() == 0
    assert clock.reply_played() == 0
