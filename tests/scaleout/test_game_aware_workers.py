"""What the game shares over REST on one worker reaches the child's socket on another, through Redis."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.images import screenshot
from tests.processes import stop, wait_for_http
from tests.scaleout.test_two_workers import http, manage, start_worker
from voice.brains.offline import CANNOT_LOOK

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]


def post_picture(url: str, key: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="screen.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (local worker)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


async def reply_to(ws: Any, text: str) -> str:
    await ws.send(json.dumps({"type": "text", "content": text}))
    while True:
        frame = await asyncio.wait_for(ws.recv(), 60)
        if isinstance(frame, str) and json.loads(frame)["type"] == "response":
            return str(json.loads(frame)["content"])


async def test_a_screenshot_and_a_game_state_posted_to_one_worker_reach_a_socket_on_another(
    postgres_and_redis: tuple[str, str], tmp_path: Path
) -> None:
    database_url, redis_url = postgres_and_redis
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "scale-out-test-key-" + "k8Zq2" * 10,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo_levels")
    key = manage(env, "create_api_key", "scale-out test")
    workers = [start_worker(env, tmp_path) for _ in range(2)]
    try:
        for port, _ in workers:
            wait_for_http(f"http://127.0.0.1:{port}/api/health/")
        (port_a, _), (port_b, _) = workers
        session = await asyncio.to_thread(
            http, "POST", f"http://127.0.0.1:{port_a}/api/sessions/", key, {"level": "castle-red-door", "child_age": 6}
        )
        api_a = f"http://127.0.0.1:{port_a}/api/sessions/{session['id']}"
        path = f"{session['websocket_path']}?token={session['client_token']}"
        async with connect(f"ws://127.0.0.1:{port_b}{path}", compression=None) as ws:
            assert json.loads(await ws.recv())["mode"] == "offline"
            status = await asyncio.to_thread(post_picture, f"{api_a}/screenshot/", key, screenshot(fmt="PNG"))
            assert status == 202
            await asyncio.sleep(0.5)  # the group message crosses Redis to worker B
            assert await reply_to(ws, "what do I do here?") == CANNOT_LOOK
            state = {"state": {"step": "using the key", "items": ["golden key"]}}
            await asyncio.to_thread(http, "POST", f"{api_a}/game_state/", key, state)
            await asyncio.sleep(0.5)
            assert (await reply_to(ws, "I'm stuck, can you help me")).startswith("Great job finding it!")
    finally:
        for _, process in workers:
            stop(process)
