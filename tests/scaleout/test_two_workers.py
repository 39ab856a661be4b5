"""Two real worker processes on PostgreSQL and Redis: kill one mid-conversation, and the other carries on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.processes import free_port, stop, wait_for_http

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]
MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"


def manage(env: dict[str, str], *command: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def http(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (local worker)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def start_emulator() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "gemini_emulator", "--responder", "tone", "--api-key", "k", "--realtime-factor", "1"],
        cwd=ROOT, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert emulator.stdout is not None
    return emulator, json.loads(emulator.stdout.readline())


def start_worker(env: dict[str, str], logs: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """One single-process worker on a port of its own (as one machine of several behind a load balancer)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=env, stdout=(logs / f"worker-{port}.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    return port, process


async def until_turn_complete(ws: ClientConnection, *, stop_at_audio: bool = False) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while True:
        frame = await asyncio.wait_for(ws.recv(), 30)
        if isinstance(frame, bytes):
            if stop_at_audio:
                return seen
            continue
        message = json.loads(frame)
        seen.append(message)
        if message["type"] == "turn_complete":
            return seen


async def test_killing_a_worker_mid_turn_loses_nothing_and_the_other_continues(
    postgres_and_redis: tuple[str, str], tmp_path: Path
) -> None:
    database_url, redis_url = postgres_and_redis
    emulator, found = start_emulator()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "scale-out-test-key-" + "k8Zq2" * 10,
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
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo_levels")
    key = manage(env, "create_api_key", "scale-out test")
    workers = [start_worker(env, tmp_path) for _ in range(2)]
    try:
        for port, _ in workers:
            wait_for_http(f"http://127.0.0.1:{port}/api/health/")
        (port_a, worker_a), (port_b, _) = workers
        health = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{port_b}/api/health/", key)
        assert health["database"] == "ok" and health["channel_layer"] == "ok"
        session = await asyncio.to_thread(
            http, "POST", f"http://127.0.0.1:{port_a}/api/sessions/", key, {"level": "castle-red-door", "child_age": 6}
        )
        path = f"{session['websocket_path']}?token={session['client_token']}"

        async with connect(f"ws://127.0.0.1:{port_a}{path}", compression=None) as ws:
            assert json.loads(await ws.recv())["mode"] == "live"
            await ws.send(json.dumps({"type": "text", "content": "turn one about the key"}))
            await until_turn_complete(ws)
            await ws.send(json.dumps({"type": "text", "content": "turn two about the key"}))
            await until_turn_complete(ws, stop_at_audio=True)
            os.kill(worker_a.pid, signal.SIGKILL)  # mid-reply
            worker_a.wait(timeout=10)

        async with connect(f"ws://127.0.0.1:{port_b}{path}", compression=None) as ws:
            hello = json.loads(await ws.recv())
            assert hello["mode"] == "live" and hello["history_message_count"] >= 3
            await ws.send(json.dumps({"type": "text", "content": "turn three about the key"}))
            seen = await until_turn_complete(ws)
        assert seen[-1] == {"type": "turn_complete", "interrupted": False}

        history = await asyncio.to_thread(
            http, "GET", f"http://127.0.0.1:{port_b}/api/history/?session_id={session['id']}&limit=200", key
        )
        child = [m["text"] for m in history["messages"] if m["sender"] == "child"]
        helper = [m for m in history["messages"] if m["sender"] == "assistant"]
        assert child == ["turn one about the key", "turn two about the key", "turn three about the key"]
        whole = [m for m in helper if not m["interrupted"]]
        assert len(whole) == 2, "the two completed turns are stored, exactly once each"

        context = ssl.create_default_context(cafile=found["ca_file"])

        def records() -> list[dict[str, Any]]:
            with urllib.request.urlopen(f"{found['base_url']}/emulator/records", context=context, timeout=5) as r:  # noqa: S310
                return list(json.loads(r.read()))

        assert (await asyncio.to_thread(records))[-1]["resumed_handle"], "worker B resumed the same Gemini session"

        # Ending the session on one worker closes its socket on another, through Redis.
        port_c, worker_c = start_worker(env, tmp_path)
        workers.append((port_c, worker_c))
        wait_for_http(f"http://127.0.0.1:{port_c}/api/health/")
        async with connect(f"ws://127.0.0.1:{port_b}{path}", compression=None) as ws:
            await ws.recv()  # connection
            await asyncio.to_thread(
                http, "POST", f"http://127.0.0.1:{port_c}/api/sessions/{session['id']}/end_session/", key
            )
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4010
    finally:
        for _, process in workers:
            stop(process)
        stop(emulator)
