"""Ending the tasks a session owns: cancel them all, then wait for each to finish."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel every task, then wait for each, so none outlives its owner. Safe on finished tasks and None."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
