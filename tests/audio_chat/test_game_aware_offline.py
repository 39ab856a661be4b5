"""The offline helper with what the game shares over REST: the open WebSocket, on any worker, gets it through the
channel layer."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.audio_chat.ws_client import connect_client
from tests.images import screenshot
from voice.brains.offline import CANNOT_LOOK

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def post(api: APIClient, path: str, data: dict[str, Any], fmt: str) -> int:
    response = await database_sync_to_async(api.post)(path, data, format=fmt)
    return int(response.status_code)


async def test_a_screenshot_posted_over_rest_gets_an_honest_i_cannot_look(api, session) -> None:

    client = await connect_client(session)
    image = SimpleUploadedFile("s.png", screenshot((200, 100), fmt="PNG"))
    assert await post(api, f"/api/sessions/{session.id}/screenshot/", {"image": image}, "multipart") == 202
    await client.ws.send_json_to({"type": "text", "content": "what do I do here?"})
    await client.until(lambda: client.messages("response"), limit_seconds=30)
    await client.leave()
    assert client.messages("response")[0]["content"] == CANNOT_LOOK


async def test_game_state_posted_over_rest_moves_the_hint_the_helper_gives(api, session, castle) -> None:
    client = await connect_client(session)
    state = {"state": {"step": "using the key", "items": ["golden key"]}}
    assert await post(api, f"/api/sessions/{session.id}/game_state/", state, "json") == 200
    await client.ws.send_json_to({"type": "text", "content": "I'm stuck, can you help me"})
    await client.until(lambda: client.messages("response"), limit_seconds=30)
    await client.leave()
    using_the_key = next(h["text"] for h in castle.hints if h["topic"] == "using the key")
    assert client.messages("response")[0]["content"] == using_the_key
