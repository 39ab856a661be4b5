"""The long fault soak: the CI soak test with more sessions, turns and rounds.

Run: ``.venv/bin/python -m bench.soak [--sessions 24 --turns 10 --rounds 6]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    env = {
        **os.environ,
        "SOAK_SESSIONS": str(args.sessions),
        "SOAK_TURNS": str(args.turns),
        "SOAK_ROUNDS": str(args.rounds),
    }
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/scaleout/test_soak.py"]
    result = subprocess.run(command, env=env, check=False)
    print(f"(soak ran {time.perf_counter() - started:.0f} s)")
    raise SystemExit(result.returncode)
