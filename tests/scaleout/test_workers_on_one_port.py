"""`python -m config.serve --workers 2` on PostgreSQL and Redis: both workers take connections on the one port, and
SIGKILLing the worker that holds a child's connection loses nothing: the child reconnects to the same port, lands
on the live worker and goes on with the same conversation, uvicorn's supervisor starts a worker in its place, and
nothing of the killed worker lingers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.processes import free_port, stop, wait_for_http
from tests.scaleout.test_two_workers import MODEL, ROOT, http, manage, start_emulator, until_turn_complete

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]


def workers_of(server: subprocess.Popen[bytes], port: int) -> set[int]:
    """uvicorn's worker processes: the supervisor's children that serve the listening socket."""
    found = set()
    for child in psutil.Process(server.pid).children():
        try:
            sockets = child.net_connections("tcp")
        except psutil.NoSuchProcess:
            continue
        if any(s.status == psutil.CONN_LISTEN and s.laddr.port == port for s in sockets):
            found.add(child.pid)
    return found


def owner_of(client_port: int, port: int, workers: set[int]) -> int:
    """The worker holding the accepted socket whose other end is the client's ``client_port``."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for pid in workers:
            try:
                sockets = psutil.Process(pid).net_connections("tcp")
            except psutil.NoSuchProcess:
                continue
            if any(s.raddr and s.raddr.port == client_port and s.laddr.port == port for s in sockets):
                return pid
        time.sleep(0.05)
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def wait_until(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {seconds} s")


def serve_two_workers(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def health(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/", timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:  # 503 still carries the report
        return dict(json.loads(error.read()))


async def test_two_workers_on_one_port_share_children_and_a_killed_one_loses_no_conversation(
    postgres_and_redis: tuple[str, str], tmp_path: Path
) -> None:
    database_url, redis_url = postgres_and_redis
    emulator, found = start_emulator()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "one-port-test-key-" + "q7Wm3" * 10,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "k",
        "GEMINI_BASE_URL": found["base_url"],
        "GEMINI_CA_FILE": found["ca_file"],
        "LIVE_MODELS": MODEL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("WEB_CONCURRENCY", None)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo_levels")
    key = manage(env, "create_api_key", "one-port test")
    port = free_port()
    base = f"127.0.0.1:{port}"
    server = serve_two_workers(env, port, tmp_path / "server.log")
    try:
        wait_for_http(f"http://{base}/api/health/", process=server)
        first_workers = wait_until(lambda: (w := workers_of(server, port)) and len(w) == 2 and w, 60, "two workers")
        reported = wait_until(lambda: len((h := health(port))["load"]["workers"]) == 2 and h, 30, "both reporting")
        assert {worker["pid"] for worker in reported["load"]["workers"]} == first_workers

        session = await asyncio.to_thread(
            http, "POST", f"http://{base}/api/sessions/", key, {"level": "castle-red-door", "child_age": 6}
        )
        # Sockets still waiting for their token: each is a connection a worker accepted, and takes no session slot.
        owners = set()
        for _ in range(30):
            async with connect(f"ws://{base}{session['websocket_path']}", compression=None) as waiting:
                owners.add(await asyncio.to_thread(owner_of, waiting.local_address[1], port, first_workers))
            if owners == first_workers:
                break
        assert owners == first_workers, "both workers take connections on the one port"

        path = f"{session['websocket_path']}?token={session['client_token']}"
        async with connect(f"ws://{base}{path}", compression=None) as ws:
            assert json.loads(await ws.recv())["mode"] == "live"
            holder = await asyncio.to_thread(owner_of, ws.local_address[1], port, first_workers)
            await ws.send(json.dumps({"type": "text", "content": "turn one about the key"}))
            await until_turn_complete(ws)
            await ws.send(json.dumps({"type": "text", "content": "turn two about the key"}))
            await until_turn_complete(ws, stop_at_audio=True)
            decoders = psutil.Process(holder).children()  # its speech-recognition processes
            os.kill(holder, signal.SIGKILL)  # mid-reply
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)

        async with connect(f"ws://{base}{path}", compression=None) as ws:  # the same port, as the child's app does
            hello = json.loads(await ws.recv())
            landed = await asyncio.to_thread(owner_of, ws.local_address[1], port, workers_of(server, port))
            assert landed != holder and psutil.pid_exists(landed)
            assert hello["mode"] == "live" and hello["history_message_count"] >= 3, "the earlier turns are there"
            await ws.send(json.dumps({"type": "text", "content": "turn three about the key"}))
            seen = await until_turn_complete(ws)
        assert seen[-1] == {"type": "turn_complete", "interrupted": False}

        history = await asyncio.to_thread(
            http, "GET", f"http://{base}/api/history/?session_id={session['id']}&limit=200", key
        )
        child = [m["text"] for m in history["messages"] if m["sender"] == "child"]
        assert child == ["turn one about the key", "turn two about the key", "turn three about the key"]
        whole = [m for m in history["messages"] if m["sender"] == "assistant" and not m["interrupted"]]
        assert len(whole) == 2, "the two completed turns are stored, exactly once each"

        def replaced() -> set[int] | None:
            now = workers_of(server, port)
            return now if len(now) == 2 and holder not in now else None

        second_workers = wait_until(replaced, 90, "the supervisor starting a worker in place of the killed one")
        assert decoders and not psutil.wait_procs(decoders, timeout=10)[1], "the killed worker's decoders end too"
        assert server.poll() is None
        wait_until(
            lambda: {w["pid"] for w in health(port)["load"]["workers"]} == second_workers, 30, "the new one reporting"
        )
    finally:
        stop(server)
        stop(emulator)
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert f"Child process [{holder}] died" in log, "uvicorn's supervisor saw the death and replaced the worker"
