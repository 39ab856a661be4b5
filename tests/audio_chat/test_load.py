"""The worker's lifespan runs its load monitor and publishes its state for the machine's health check."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from django.core.cache import cache

from audio_chat.load import Lifespan, machine_load
from voice.load import LoadMonitor, LoadSettings


async def test_the_lifespan_measures_and_publishes_until_shutdown_then_withdraws() -> None:
    cache.clear()
    monitor = LoadMonitor(LoadSettings(tick_seconds=0.01))
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await received.put({"type": "lifespan.startup"})
    running = asyncio.create_task(Lifespan(lambda: monitor)({"type": "lifespan"}, received.get, send))
    await asyncio.sleep(1.3)  # the state is published at start and every second
    assert sent == [{"type": "lifespan.startup.complete"}]
    assert monitor.report().lag_p95_ms is not None, "the monitor is measuring"
    key = f"audio_chat:load:{socket.gethostname()}:{os.getpid()}"
    published = await asyncio.to_thread(cache.get, key)
    assert published["pid"] == os.getpid() and published["connections"] == 0 and not published["overloaded"]
    assert published["event_loop_lag_p95_ms"] is not None, "published once measured"

    await received.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(running, 5)
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    assert await asyncio.to_thread(cache.get, key) is None, "a worker that stops leaves the machine's count at once"
    frozen = monitor.report().lag_p95_ms
    await asyncio.sleep(0.05)
    assert monitor.report().lag_p95_ms == frozen, "nothing measures after shutdown"


def test_the_machine_load_counts_this_worker_from_its_live_monitor() -> None:
    cache.clear()
    monitor = LoadMonitor(LoadSettings(max_connections=1))
    monitor.connection_opened()
    assert machine_load(monitor.report()) == {
        "accepting": False,
        "overloaded_workers": 1,
        "workers": [{**monitor.report().as_dict(), "pid": os.getpid()}],
    }
