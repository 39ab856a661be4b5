"""The service as shipped (`python -m config.serve`): SIGTERM with children connected, some of them gone without a
close, ends the process promptly and cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from pathlib import Path

import websockets

from tests.processes import manage, start_service


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
