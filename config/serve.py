"""Runs the service under uvicorn with the options it is shipped, tested and measured with.

``python -m config.serve --host 0.0.0.0 --port 8000`` — any other uvicorn option passes through and wins over the
defaults below (``make run``, the deployment guide and the tests that start a real server all come through here).
"""

from __future__ import annotations

import sys

import uvicorn.main

APPLICATION = "config.asgi:application"
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


def main(arguments: list[str] | None = None) -> None:
    uvicorn.main.main(
        args=[APPLICATION, *SHIPPED_OPTIONS, *(sys.argv[1:] if arguments is None else arguments)],
        prog_name="python -m config.serve",
    )


if __name__ == "__main__":
    main()
