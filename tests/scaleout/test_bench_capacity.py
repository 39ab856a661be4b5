"""The relay benchmark's capacity and overload runs, in a smoke run: two workers on PostgreSQL and Redis take every
client, and a worker at its connection cap refuses the rest with 1013 while the admitted ones stream."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(400)
def test_the_capacity_and_overload_runs_report_what_happened(postgres_and_redis: tuple[str, str]) -> None:
    _, redis_url = postgres_and_redis
    command = [sys.executable, "-m", "bench.relay", "--clients", "2", "--seconds", "3", "--capacity", "2"]
    command += ["--overload", "4", "--overload-cap", "2", "--overload-ramp-seconds", "1"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=380,
        env={**os.environ, "BENCH_REDIS_URL": redis_url},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.stdout
    capacity = report.split("### The machine's capacity")[1].split("###")[0]
    for workers in ("1 worker", "2 workers"):
        row = next(line for line in capacity.splitlines() if line.startswith(f"| 2 | {workers} |"))
        lost, failures = (int(cell) for cell in row.strip(" |").split("|")[-2:])
        assert (lost, failures) == (0, 0), f"{row}\n{result.stderr[-2000:]}"
    overload = report.split("### Offered more children")[1].split("###")[0]
    row = next(line for line in overload.splitlines() if re.match(r"\| 4 \|", line))
    offered, admitted, refused, failures = (int(cell) for cell in row.strip(" |").split("|")[:4])
    assert (offered, admitted, refused, failures) == (4, 2, 2, 0), f"{row}\n{result.stderr[-2000:]}"
