"""The screenshot benchmark's harness runs and reports every case (a smoke run, not a speed test)."""

from __future__ import annotations

from bench.images import CASES, section


def test_one_round_reports_every_picture_and_the_refused_bomb() -> None:
    report = section(rounds=1)
    assert report.count("\n| ") == len(CASES) + 1  # the header, and one row per case
    assert "claiming 30000x30000 pixels is refused" in report
