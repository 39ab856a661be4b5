"""The engine's thread pools: work done ahead of time runs at a lower CPU priority than answering."""

from __future__ import annotations

import os
import threading

from voice.speech.workers import BACKGROUND_NICENESS, run_background, run_cpu


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_work_ahead_of_time_yields_the_cpu_to_answers() -> None:
    assert await run_background(_niceness) == await run_cpu(_niceness) + BACKGROUND_NICENESS
