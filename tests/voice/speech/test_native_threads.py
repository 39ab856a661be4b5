"""No deadlock, ever: BLAS stays single-threaded, a multi-threaded one is refused at start, and the real
service (uvicorn on uvloop, real models) answers every turn of children typing and speaking at once."""

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.processes import free_port, stop, wait_for_http
from tests.speech import spoken_question

ROOT = Path(__file__).resolve().parents[3]
# About a minute in CI; DEADLOCK_TEST_SECONDS makes it longer by hand.
TALK_SECONDS = float(os.environ.get("DEADLOCK_TEST_SECONDS", "60"))
TURN_LIMIT_SECONDS = 45.0

# One thread multiplies with the sentence encoder while a uvloop loop starts espeak-ng over and over: this hung
# within seconds with OpenBLAS on two threads (its fork handler tears down the pool mid-multiply).
REPRODUCER = """
import asyncio, sys, threading, time
import uvloop
import config.settings  # the entry point pins BLAS before numpy loads
from voice.speech.embeddings import shared_embedder
encoder = shared_embedder()
stop = False
def encode():
    while not stop:
        encoder.encode(["how do i open the red door please"] * 4)
async def spawn():
    global stop
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        process = await asyncio.create_subprocess_exec("espeak-ng", "-q", "--ipa", stdin=-1, stdout=-1)
        await process.communicate(b"hello there")
    stop = True
threads = [threading.Thread(target=encode, daemon=True) for _ in range(2)]
for thread in threads:
    thread.start()
uvloop.run(spawn())
for thread in threads:
    thread.join(10)
print("hung" if any(thread.is_alive() for thread in threads) else "finished")
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    environment = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings", **(env or {})}
    environment.pop("OPENBLAS_NUM_THREADS", None)
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )
    return done.stdout + done.stderr


def test_the_service_starts_with_blas_on_one_thread() -> None:
    output = _python("import config.settings, numpy, threadpoolctl; print(threadpoolctl.threadpool_info())")
    assert "'num_threads': 1" in output
    assert "'num_threads': 2" not in output


def test_startup_refuses_a_multi_threaded_blas() -> None:
    output = _python("import config.settings", env={"OPENBLAS_NUM_THREADS": "4"})
    assert "ImproperlyConfigured" in output
    assert "OPENBLAS_NUM_THREADS=4" in output


def test_encoding_while_uvloop_starts_subprocesses_does_not_hang() -> None:
    assert _python(REPRODUCER, "8", timeout=90).strip().endswith("finished")


# --- the real service --------------------------------------------------------------------------------


def _manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _create_session(base_url: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own local server)
        f"{base_url}/api/sessions/",
        data=json.dumps({"level": "castle-red-door", "child_age": 6}).encode(),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def _health(base: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{base}/api/health/", timeout=30) as response:  # noqa: S310
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as degraded:  # 503 still carries the report
        return dict(json.loads(degraded.read()))


async def _until_turn_complete(ws: websockets.ClientConnection) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(ws.recv(), TURN_LIMIT_SECONDS)
        if isinstance(message, str) and (event := json.loads(message))["type"] in ("turn_complete", "error"):
            return dict(event)


async def _child(url: str, question: str, pcm: bytes | None, until: float) -> tuple[int, int]:
    """Asks again and again until ``until``, typing or speaking; returns (asked, answered)."""
    asked = answered = 0
    async with websockets.connect(url, max_size=None, open_timeout=30) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection"
        while time.monotonic() < until:
            asked += 1
            if pcm is None:
                await ws.send(json.dumps({"type": "text", "content": question}))
            else:
                loop = asyncio.get_running_loop()
                started = loop.time()
                for number, start in enumerate(range(0, len(pcm), 640)):
                    await ws.send(pcm[start : start + 640])
                    await asyncio.sleep(max(0.0, started + (number + 1) * 0.02 - loop.time()))
            event = await _until_turn_complete(ws)
            answered += event["type"] == "turn_complete"
    return asked, answered


@dataclass
class Service:
    base_url: str
    api_key: str


@pytest.fixture
def uvloop_service(tmp_path: Path) -> Iterator[Service]:
    """The service as `make run` starts it, on uvloop; it must still stop on SIGTERM afterwards."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GEMINI_API_KEY": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("OPENBLAS_NUM_THREADS", None)  # the service must protect itself, whatever the test runner did
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "load_demo_levels")
    key = _manage(env, "create_api_key", "deadlock test")
    port = free_port()
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--ws", "websockets", "--ws-per-message-deflate", "false"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/health/", 120, server)
        yield Service(f"http://127.0.0.1:{port}", key)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the service ignored SIGTERM (wedged)")
        # uvicorn re-raises the signal after a graceful shutdown, so -SIGTERM is a clean exit too.
        assert server.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
        assert "Finished server process" in log.read_text()
    finally:
        stop(server)


@pytest.mark.timeout(int(TALK_SECONDS) + 240)
async def test_four_children_typing_and_four_speaking_on_uvloop_are_all_answered(uvloop_service: Service) -> None:
    base = uvloop_service.base_url
    questions = ["How do I open the red door?", "I can't find the key.", "Where is the key?", "Can you help me?"]
    spoken = [await spoken_question(q, lead_seconds=0.3, tail_seconds=1.0, seed=n) for n, q in enumerate(questions)]
    sessions = [_create_session(base, uvloop_service.api_key) for _ in range(8)]
    urls = [f"{base.replace('http', 'ws')}/ws/audio-chat/{s['id']}/?token={s['client_token']}" for s in sessions]
    until = time.monotonic() + TALK_SECONDS
    results = await asyncio.gather(
        *(_child(urls[n], questions[n], None, until) for n in range(4)),
        *(_child(urls[4 + n], questions[n], spoken[n], until) for n in range(4)),
    )
    for asked, answered in results:
        assert asked >= 2 and answered == asked, results
    health = _health(base)
    # Late turns on a busy machine may make it "degraded"; its workers must still be there.
    assert "worker" not in health["offline_engine"], health
