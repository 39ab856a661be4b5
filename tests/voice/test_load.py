"""The worker's load monitor: it measures a really blocked event loop, refuses at its cap, and does not flap."""

from __future__ import annotations

import asyncio
import time

import pytest

from voice.load import LoadMonitor, LoadSettings, OverloadReason
from voice.tasks import cancel_and_wait


async def test_a_loop_blocked_again_and_again_is_measured_overloaded_and_recovers_once_it_runs_freely() -> None:
    monitor = LoadMonitor(LoadSettings(window_seconds=0.6, tick_seconds=0.02))
    measuring = asyncio.create_task(monitor.run())
    try:
        await asyncio.sleep(0.3)
        assert not monitor.overloaded
        calm = monitor.report().lag_p95_ms
        assert calm is not None and calm < 25
        for _ in range(8):  # work that holds the loop 100 ms at a time, as a saturated worker does
            time.sleep(0.1)  # noqa: ASYNC251 (the blocked loop is what is measured)
            await asyncio.sleep(0)
        report = monitor.report()
        assert report.overloaded and report.reasons == (OverloadReason.EVENT_LOOP_LAG,)
        assert report.lag_p95_ms is not None and report.lag_p95_ms > 50
        assert not monitor.admits()
        await asyncio.sleep(1.0)  # the window passes with the loop free
        assert not monitor.overloaded and monitor.admits()
    finally:
        await cancel_and_wait(measuring)


def test_one_late_wake_in_the_window_is_not_overload() -> None:
    monitor = LoadMonitor(LoadSettings())
    for tick in range(40):
        monitor.record(0.12 if tick == 20 else 0.001, now=tick * 0.05)
    assert not monitor.overloaded, "a garbage collection or a slow write now and then is not overload"


def test_the_lag_state_has_hysteresis() -> None:
    monitor = LoadMonitor(LoadSettings(lag_limit_seconds=0.05, lag_recovered_seconds=0.025, window_seconds=1.0))
    now = 0.0

    def ticks(lag: float, seconds: float) -> None:
        nonlocal now
        for _ in range(int(seconds / 0.05)):
            now += 0.05
            monitor.record(lag, now)

    ticks(0.04, 1.5)
    assert not monitor.overloaded, "between the two thresholds a calm worker stays calm"
    ticks(0.08, 1.5)
    assert monitor.overloaded
    ticks(0.04, 1.5)
    assert monitor.overloaded, "between the two thresholds an overloaded worker stays overloaded"
    ticks(0.01, 1.5)
    assert not monitor.overloaded


def test_a_lag_limit_of_zero_measures_but_never_refuses() -> None:
    monitor = LoadMonitor(LoadSettings(lag_limit_seconds=0.0))
    for tick in range(40):
        monitor.record(0.5, now=tick * 0.05)
    assert monitor.report().lag_p95_ms == 500.0
    assert monitor.admits()


def test_at_the_cap_new_connections_wait_until_a_margin_is_free() -> None:
    monitor = LoadMonitor(LoadSettings(max_connections=40))  # a margin of 2
    for _ in range(40):
        assert monitor.admits()
        monitor.connection_opened()
    assert not monitor.admits() and monitor.report().reasons == (OverloadReason.CONNECTION_CAP,)
    monitor.connection_closed()
    assert not monitor.admits(), "one free place is not room enough: it would flap with every child"
    monitor.connection_closed()
    assert monitor.admits() and monitor.connections == 38


def test_the_report_says_what_the_health_check_shows() -> None:
    monitor = LoadMonitor(LoadSettings(max_connections=1))
    assert monitor.report().as_dict() == {
        "overloaded": False,
        "reasons": [],
        "event_loop_lag_p95_ms": None,
        "connections": 0,
        "max_connections": 1,
    }
    monitor.connection_opened()
    assert monitor.report().as_dict()["reasons"] == ["connection_cap"]


@pytest.mark.parametrize(
    "settings",
    [
        {"lag_limit_seconds": 0.05, "lag_recovered_seconds": 0.06},
        {"tick_seconds": 0.0},
        {"max_connections": -1},
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LoadSettings(**settings)  # type: ignore[arg-type]
