"""Bounded thread pools for CPU-heavy model work, shared by every session so the event loop never blocks: one for
the turns being answered, one at a low CPU priority for work done ahead of time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def cpu_pool() -> ThreadPoolExecutor:
    # numpy and the speech libraries release the GIL in their heavy loops, so threads use every core.
    workers = int(os.environ.get("ENGINE_WORKERS", "0")) or max(2, os.cpu_count() or 2)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")


async def run_cpu(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``func`` in the shared pool and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(cpu_pool(), functools.partial(func, *args, **kwargs))


BACKGROUND_NICENESS = 10  # work done ahead of time yields the CPU to children waiting for an answer


def _lower_priority() -> None:
    # On Linux a thread has its own nice value, set through its thread id; elsewhere this is a no-op.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


@functools.cache
def background_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-ahead", initializer=_lower_priority)


async def run_background(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``func`` in the low-priority pool (one thread: work ahead of time never takes more than a core)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(background_pool(), functools.partial(func, *args, **kwargs))
