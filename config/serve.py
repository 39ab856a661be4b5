"""Runs the service under uvicorn with the options it is shipped, tested and measured with.

``python -m config.serve --host 0.0.0.0 --port 8000`` — any other uvicorn option passes through and wins over the
defaults below (``make run``, the deployment guide and the tests that start a real server all come through here).

Workers: one per core when the shared backends are configured (``REDIS_URL``: the Redis channel layer and cache),
one otherwise; ``WEB_CONCURRENCY`` or ``--workers`` choose another count. uvicorn's own supervisor runs them on
one listening socket and starts a new worker in place of one that dies. Without Redis, asking for more than one
worker is refused: each process would keep its own connection slots, limits and ``session.closed`` messages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import environ
import uvicorn.main

APPLICATION = "config.asgi:application"
BASE_DIR = Path(__file__).resolve().parent.parent
SHIPPED_OPTIONS = (
    "--loop",
    "uvloop",
    # uvicorn's own protocol implementation on the websockets library: the one uvicorn recommends, measured in
    # docs/benchmarks.md. PCM does not compress, so permessage-deflate would only cost CPU.
    "--ws",
    "websockets-sansio",
    "--ws-per-message-deflate",
    "false",
    # SIGTERM closes every socket (each connection then releases what it holds); whatever is still running after
    # this many seconds is cancelled, so a restart never waits on a stuck client.
    "--timeout-graceful-shutdown",
    "10",
)
NEEDS_SHARED_BACKENDS = (
    "{workers} workers were asked for, but REDIS_URL is not set. Without Redis every worker keeps its own "
    "connection slots, limits and session.closed messages, so a child's session would behave differently on "
    "each worker. Set REDIS_URL (and DATABASE_URL to PostgreSQL) to run several workers, or run one."
)


class WorkersRefused(SystemExit):
    """Several workers asked for without the shared backends they need."""


def cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container's cpuset narrows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _workers_option(arguments: list[str]) -> int | None:
    """The value of ``--workers N`` or ``--workers=N`` among the arguments, if given."""
    for index, argument in enumerate(arguments):
        if argument == "--workers" and index + 1 < len(arguments):
            return int(arguments[index + 1])
        if argument.startswith("--workers="):
            return int(argument.split("=", 1)[1])
    return None


def read_dotenv() -> None:
    """The checkout's ``.env``, as config/settings.py reads it (the environment wins), so both see one REDIS_URL."""
    if (BASE_DIR / ".env").is_file():
        environ.Env.read_env(str(BASE_DIR / ".env"))


def worker_count(arguments: list[str], environment: dict[str, str], available_cores: int) -> int:
    """How many uvicorn workers to run: ``--workers``, else ``WEB_CONCURRENCY``, else one per core with Redis and
    one without it.

    Raises:
        WorkersRefused: more than one worker without ``REDIS_URL``.
    """
    asked = _workers_option(arguments)
    if asked is None and environment.get("WEB_CONCURRENCY", "").strip():
        asked = int(environment["WEB_CONCURRENCY"])
    shared = bool(environment.get("REDIS_URL", "").strip())
    workers = asked if asked is not None else (available_cores if shared else 1)
    if workers < 1:
        raise WorkersRefused(f"The number of workers must be 1 or more, not {workers}.")
    if workers > 1 and not shared:
        raise WorkersRefused(NEEDS_SHARED_BACKENDS.format(workers=workers))
    return workers


def main(arguments: list[str] | None = None) -> None:
    given = list(sys.argv[1:] if arguments is None else arguments)
    read_dotenv()
    if "--reload" in given:  # a developer's single process; uvicorn ignores workers with --reload
        workers = 1
    else:
        workers = worker_count(given, dict(os.environ), cores())
        if _workers_option(given) is None:
            given = ["--workers", str(workers), *given]
    # The workers inherit this: config/settings.py sizes each worker's share of the machine (speech decoders) by it.
    os.environ["WEB_CONCURRENCY"] = str(workers)
    uvicorn.main.main(args=[APPLICATION, *SHIPPED_OPTIONS, *given], prog_name="python -m config.serve")


if __name__ == "__main__":
    main()
