"""The service as shipped (`python -m config.serve`): one worker per core with Redis and one without it, several
refused without Redis, and SIGTERM with children connected (some gone without a close) ends it promptly and cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

from config.serve import WorkersRefused, worker_count
from tests.processes import ROOT, manage, start_service

REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_with_redis_one_worker_runs_per_core() -> None:
    assert worker_count([], REDIS, available_cores=4) == 4


def test_without_redis_one_worker_runs_whatever_the_cores() -> None:
    assert worker_count([], {}, available_cores=4) == 1


def test_web_concurrency_sets_the_count_and_workers_wins_over_it() -> None:
    assert worker_count([], {**REDIS, "WEB_CONCURRENCY": "3"}, available_cores=8) == 3
    assert worker_count(["--workers", "2"], {**REDIS, "WEB_CONCURRENCY": "3"}, available_cores=8) == 2
    assert worker_count(["--port", "1", "--workers=5"], REDIS, available_cores=8) == 5


@pytest.mark.parametrize(("arguments", "environment"), [(["--workers", "2"], {}), ([], {"WEB_CONCURRENCY": "3"})])
def test_several_workers_without_redis_are_refused_naming_redis_url(
    arguments: list[str], environment: dict[str, str]
) -> None:
    with pytest.raises(WorkersRefused, match="REDIS_URL is not set"):
        worker_count(arguments, environment, available_cores=4)


def test_asking_for_two_workers_without_redis_fails_before_serving() -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "WEB_CONCURRENCY")}
    done = subprocess.run(
        [sys.executable, "-m", "config.serve", "--port", "1", "--workers", "2"],
        cwd=ROOT, env={**env, "DEBUG": "true"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Set REDIS_URL" in done.stderr and "2 workers were asked for" in done.stderr


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "WEB_CONCURRENCY")}
    clean.update(env, DEBUG="true", DJANGO_SETTINGS_MODULE="config.settings")
    script = "from django.conf import settings; print(settings.STT_DECODERS, settings.SERVER_WORKERS)"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_each_worker_runs_its_share_of_the_speech_decoders() -> None:
    cores = len(os.sched_getaffinity(0))
    alone = run_settings()
    shared = run_settings(WEB_CONCURRENCY="2", **REDIS)
    assert alone.stdout.split() == [str(cores), "1"], alone.stderr
    assert shared.stdout.split() == [str(max(1, cores // 2)), "2"], shared.stderr


def test_settings_refuse_several_workers_without_redis() -> None:
    done = run_settings(WEB_CONCURRENCY="2")
    assert done.returncode != 0 and "REDIS_URL is not set" in done.stderr


def create_session(base_url: str, api_key: str) -> dict[str, str]:
    request = urllib.request.Request(  # noqa: S310 (our own local server)
        f"{base_url}/api/sessions/",
        data=json.dumps({"level": "castle-red-door", "child_age": 6}).encode(),
        headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        created: dict[str, str] = json.loads(response.read())
        return created


async def connect_children(ws_base: str, sessions: list[dict[str, str]]) -> None:
    """Three children ask a question; two vanish without a close (as a phone losing its network), one stays."""
    sockets = []
    for session in sessions:
        socket = await websockets.connect(f"{ws_base}/ws/audio-chat/{session['id']}/?token={session['client_token']}")
        assert json.loads(await socket.recv())["type"] == "connection"
        await socket.send(json.dumps({"type": "text", "content": "where is the key?"}))
        sockets.append(socket)
    for socket in sockets[:2]:
        socket.transport.abort()


def test_sigterm_with_children_connected_ends_the_service_within_its_graceful_bound(tmp_path: Path) -> None:
    base_url, process, log = start_service(tmp_path)
    try:
        manage(tmp_path, "load_demo_levels")
        api_key = manage(tmp_path, "create_api_key", "tests").strip().splitlines()[-1]
        sessions = [create_session(base_url, api_key) for _ in range(3)]
        asyncio.run(connect_children(base_url.replace("http://", "ws://", 1), sessions))
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        stopped_after = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text(errors="replace")
    assert stopped_after < 12.0, f"shutdown took {stopped_after:.1f} s:\n{output[-2000:]}"
    assert "Traceback" not in output, output[-4000:]
    assert process.returncode in (0, -signal.SIGTERM), "stopped by the signal (uvicorn re-raises it), not a crash"
    assert "Finished server process" in output
