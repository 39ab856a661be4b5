"""One bounded pool for CPU-heavy model work, shared by every session so the event loop never blocks."""

from __future__ import annotations

import asyncio
import functools
import os
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
