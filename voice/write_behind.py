"""A connection's writes to the store, made in order by a task of their own, so relaying audio never waits on them.

Every database call goes through one shared thread. When the event loop is busy, that thread waits for the GIL at
each step of a write, and a write that took a millisecond on a quiet worker takes tens of milliseconds. A reply
whose first audio waited for its turn to be stored reached the child that much later; audio and captions no longer
wait: they hand the write over and go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Write = Callable[[], Awaitable[object]]


class WriteBehind:
    """Writes in the order they were submitted. :meth:`run` is the connection's task that makes them; a write that
    fails raises there, so the connection fails the way it would have in the caller. Whoever reads what was written
    waits for :meth:`drained` first; whoever stops :meth:`run` makes the rest with :meth:`flush`."""

    def __init__(self) -> None:
        self._writes: asyncio.Queue[Write] = asyncio.Queue()

    def submit(self, write: Write) -> None:
        """Make ``write`` after every write submitted before it."""
        self._writes.put_nowait(write)

    @property
    def pending(self) -> int:
        return self._writes.qsize()

    async def run(self) -> None:
        while True:
            write = await self._writes.get()
            try:
                await write()
            finally:
                self._writes.task_done()

    async def drained(self) -> None:
        """Every write submitted so far is made (``run`` must be running)."""
        await self._writes.join()

    async def flush(self) -> None:
        """Make the writes still waiting, here: for when ``run`` is not running (stopped, or never started).

        Every write is tried even when one fails; the first failure is raised at the end.
        """
        failures: list[Exception] = []
        while not self._writes.empty():
            write = self._writes.get_nowait()
            try:
                await write()
            except Exception as failure:
                failures.append(failure)
            finally:
                self._writes.task_done()
        if failures:
            raise failures[0]
