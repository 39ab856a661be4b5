"""This worker's load monitor, run by the server's lifespan, and the machine's load as every worker publishes it.

Several uvicorn workers share one port, and a health request reaches whichever worker accepts it first. Each
worker therefore publishes its own state in the cache (Redis when there are several; a key per worker that expires
within seconds, so a dead or stuck worker drops out on its own), and the health check reports the machine: it
refuses new children (503) only when every worker on this host is overloaded, because a new connection to the
port may land on any of them, and while one still has room a child refused by another gets in on its retry.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, cache, caches

from voice.load import LoadMonitor, LoadReport, LoadSettings
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

PUBLISH_EVERY_SECONDS = 1.0
PUBLISHED_FOR_SECONDS = 5  # a worker that has not published for this long is gone (or its loop is stuck)
ROSTER_FOR_SECONDS = 3600
CACHE_TIMEOUT_SECONDS = 2.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def load_settings() -> LoadSettings:
    limit = settings.OVERLOAD_LAG_MS / 1000
    return LoadSettings(
        lag_limit_seconds=limit,
        lag_recovered_seconds=limit / 2 if limit else 0.025,
        max_connections=settings.MAX_CONNECTIONS_PER_WORKER,
        retry_after_seconds=settings.OVERLOAD_RETRY_SECONDS,
    )


@functools.cache
def worker_load() -> LoadMonitor:
    """This process's monitor: the consumer asks it before taking a connection, the health check reports it."""
    return LoadMonitor(load_settings())


def _worker_key(host: str, pid: int) -> str:
    return f"audio_chat:load:{host}:{pid}"


def _roster_key(host: str) -> str:
    return f"audio_chat:load-roster:{host}"


def publish(report: LoadReport, *, host: str | None = None, pid: int | None = None, store: BaseCache = cache) -> None:
    """Put this worker's state where the other workers on its host read it (blocking: call it off the loop).

    The roster of a host's workers is read, changed and written back without a lock: two workers adding
    themselves at once may lose one of the two, which puts itself back a second later.
    """
    host, pid = host or socket.gethostname(), pid or os.getpid()
    store.set(_worker_key(host, pid), {**report.as_dict(), "pid": pid}, PUBLISHED_FOR_SECONDS)
    roster = store.get(_roster_key(host)) or []
    if pid not in roster:
        store.set(_roster_key(host), [*roster, pid], ROSTER_FOR_SECONDS)


def withdraw(*, host: str | None = None, pid: int | None = None, store: BaseCache = cache) -> None:
    host, pid = host or socket.gethostname(), pid or os.getpid()
    store.delete(_worker_key(host, pid))


def machine_load(own: LoadReport) -> dict[str, Any]:
    """The load of every worker on this host that published lately, this one's from its live monitor.

    ``accepting`` is False when every one of them is overloaded: then no worker behind this port takes a child.
    """
    host, pid = socket.gethostname(), os.getpid()
    roster = [int(other) for other in cache.get(_roster_key(host)) or [] if other != pid]
    published = cache.get_many([_worker_key(host, other) for other in roster])
    workers = [{**own.as_dict(), "pid": pid}, *published.values()]
    if len(published) < len(roster):  # the missing ones expired: forget them
        alive = [pid, *(int(entry["pid"]) for entry in published.values())]
        cache.set(_roster_key(host), alive, ROSTER_FOR_SECONDS)
    overloaded = sum(1 for worker in workers if worker["overloaded"])
    return {
        "accepting": overloaded < len(workers),
        "overloaded_workers": overloaded,
        "workers": sorted(workers, key=lambda worker: int(worker["pid"])),
    }


class Lifespan:
    """The ASGI lifespan of a worker: measures its loop and publishes its load for as long as the server runs.

    One task owns both loops; it is cancelled and awaited at shutdown, and an error in it is logged.
    """

    def __init__(self, monitor: Callable[[], LoadMonitor] = worker_load) -> None:
        self._monitor = monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        # One cache client for the worker's life: looked up in each thread of its own, Django would build a new
        # client (and Redis connection) for every publication.
        store = caches["default"]
        running = asyncio.create_task(self._run(self._monitor(), store), name="worker-load")
        running.add_done_callback(_log_failure)
        try:
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        finally:
            await cancel_and_wait(running)
            await _quietly(functools.partial(withdraw, store=store))
        await send({"type": "lifespan.shutdown.complete"})

    async def _run(self, monitor: LoadMonitor, store: BaseCache) -> None:
        async with asyncio.TaskGroup() as group:
            # Both run until the worker's task is cancelled; the group cancels the other if one fails.
            _ = group.create_task(monitor.run(), name="load-monitor")
            _ = group.create_task(_publish_forever(monitor, store), name="load-publisher")


async def _publish_forever(monitor: LoadMonitor, store: BaseCache) -> None:
    while True:
        started = time.monotonic()
        await _quietly(functools.partial(publish, monitor.report(), store=store))
        await asyncio.sleep(max(0.0, PUBLISH_EVERY_SECONDS - (time.monotonic() - started)))


_last_warning = 0.0


async def _quietly(call: Callable[[], None]) -> None:
    """A cache call in a thread, with a timeout; a failure is logged at most once a minute (Redis may be away)."""
    global _last_warning
    try:
        await asyncio.wait_for(asyncio.to_thread(call), CACHE_TIMEOUT_SECONDS)
    except Exception as error:  # the cache being unreachable must not stop the worker
        if time.monotonic() - _last_warning > 60:
            _last_warning = time.monotonic()
            logger.warning("Could not publish this worker's load: %s: %s", type(error).__name__, error)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("The load monitor stopped", exc_info=task.exception())
