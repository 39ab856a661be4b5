"""Helpers for tests and benchmarks that run the service, the emulator or a relay as real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, seconds: float = 60.0, process: subprocess.Popen[Any] | None = None) -> None:
    """Until ``url`` answers; gives up early when ``process``, the server, has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own local server)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_service(folder: Path, extra_env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[bytes], Path]:
    """The service under uvicorn, as `make run` starts it, with a file database in ``folder``.

    Returns its base URL, the process and the file its stdout and stderr (the access log) go to.
    """
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "GEMINI_API_KEY": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **(extra_env or {}),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_for_http(f"http://127.0.0.1:{port}/api/health/", process=process)
    return f"http://127.0.0.1:{port}", process, log


def manage(folder: Path, *arguments: str) -> str:
    """Run a management command against the file database of :func:`start_service`; returns its output."""
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout
