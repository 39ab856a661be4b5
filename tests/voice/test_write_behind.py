"""Writes handed over to run behind the audio: in order, all of them, and a failure is never swallowed."""

from __future__ import annotations

import asyncio

import pytest

from voice.write_behind import Write, WriteBehind


def recording(done: list[str], name: str, failure: Exception | None = None) -> Write:
    async def write() -> None:
        await asyncio.sleep(0)
        if failure is not None:
            raise failure
        done.append(name)

    return write


async def test_writes_are_made_in_the_order_they_were_submitted() -> None:
    writes, done = WriteBehind(), list[str]()
    task = asyncio.create_task(writes.run())
    for name in ("child", "helper", "usage"):
        writes.submit(recording(done, name))
    await asyncio.wait_for(writes.drained(), 1)
    task.cancel()
    assert done == ["child", "helper", "usage"]


async def test_a_failed_write_raises_in_the_task_that_makes_them() -> None:
    writes, done = WriteBehind(), list[str]()
    writes.submit(recording(done, "child", RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):
        await asyncio.wait_for(writes.run(), 1)


async def test_flush_tries_every_write_left_and_raises_the_first_failure() -> None:
    writes, done = WriteBehind(), list[str]()
    writes.submit(recording(done, "child", RuntimeError("locked")))
    writes.submit(recording(done, "helper"))
    with pytest.raises(RuntimeError, match="locked"):
        await writes.flush()
    assert done == ["helper"]
    assert writes.pending == 0
