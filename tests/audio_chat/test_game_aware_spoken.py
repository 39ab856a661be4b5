"""Offline and text mode with what the game shares: over REST the open WebSocket, on any worker, gets it through the
channel layer; in text mode the picture and state reach the Gemini request."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from gemini_emulator.wire import decode_blob_data, normalize_keys
from tests.audio_chat.ws_client import connect_client
from tests.gemini_rest_stub import GeminiRestStub, serve_gemini_rest
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
    using_the_key = next(h["steps"][0] for h in castle.hints if h["topic"] == "using the key")
    assert client.messages("response")[0]["content"] == using_the_key


async def test_text_mode_sends_the_picture_and_state_from_the_websocket_to_the_text_model(session) -> None:
    with serve_gemini_rest(GeminiRestStub(reply="Try the door.")) as stub:
        text_mode = override_settings(
            GEMINI_API_KEY="k", BRAIN_MODE="text", GEMINI_BASE_URL=stub.base_url, TEXT_MODELS=["gemini-3.5-flash"]
        )
        with text_mode:
            client = await connect_client(session)
            assert client.messages("connection")[0]["mode"] == "text"
            picture = screenshot((1600, 900))
            await client.ws.send_json_to({"type": "game_state", "state": {"step": "red door", "attempts": 3}})
            await client.ws.send_json_to({"type": "image", "content": base64.b64encode(picture).decode()})
            await client.ws.send_json_to({"type": "text", "content": "what do I do here?"})
            await client.until(lambda: client.messages("response"), limit_seconds=30)
            await client.leave()
    assert client.messages("response")[0]["content"] == "Try the door."
    parts = [normalize_keys(part) for part in stub.requests[0]["body"]["contents"][-1]["parts"]]
    assert parts[0] == {"text": "what do I do here?"}
    assert any("step: red door; attempts: 3" in part.get("text", "") for part in parts)
    (image,) = [part["inlineData"] for part in parts if "inlineData" in part]
    sent = Image.open(io.BytesIO(decode_blob_data(image["data"])))
    assert image["mimeType"] == "image/jpeg" and sent.size == (1024, 576)
