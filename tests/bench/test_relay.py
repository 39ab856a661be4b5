"""The relay benchmark's smoke run: two clients through every variant, nothing lost, every figure present."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_the_smoke_run_measures_every_variant_and_loses_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.relay", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=280
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.stdout
    for direction in ("Uplink", "Downlink"):
        table = report.split(f"### {direction}")[1].split("###")[0]
        rows = [line for line in table.splitlines() if re.match(r"\| 2 \|", line)]
        assert [row.split("|")[2].strip() for row in rows] == ["direct", "thin relay", "service"]
        for row in rows:
            samples, lost = (int(cell) for cell in row.strip(" |").split("|")[-2:])
            assert samples > 0 and lost == 0, row
    cost = report.split("### Cost")[1].split("###")[0]
    service = next(line for line in cost.splitlines() if line.startswith("| 2 | service |"))
    cpu_ms, rss_kib = service.split("|")[3:5]
    assert float(cpu_ms) > 0
    float(rss_kib)  # a figure, not a dash: memory was sampled (at N = 2 it may be below the baseline)
    assert service.rstrip(" |").endswith("| 0 | 0"), "no client was refused or failed"
