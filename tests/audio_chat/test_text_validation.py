"""One text rule for REST and WebSocket: a lone surrogate or a control character gets the same clear error on
both, and nothing is stored (never a database error)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from rest_framework.test import APIClient

from audio_chat.models import ChatMessage, ChatSession
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True)]

# JSON escapes, so that the frame and the body carry exactly these code points.
BAD_TEXT = {
    "lone high surrogate": ("open \\ud83d the door", "'content' contains U+D83D, a lone surrogate"),
    "lone low surrogate": ("\\udc00", "'content' contains U+DC00, a lone surrogate"),
    "NUL": ("open\\u0000door", "'content' contains U+0000, a control character"),
    "escape": ("\\u001b[31mred", "'content' contains U+001B, a control character"),
    "C1 control": ("next\\u0085line", "'content' contains U+0085, a control character"),
}


@pytest.mark.parametrize("case", BAD_TEXT, ids=list(BAD_TEXT))
def test_rest_refuses_bad_text_with_the_shared_message(api: APIClient, session: ChatSession, case: str) -> None:
    escaped, message = BAD_TEXT[case]
    body = '{"content": "' + escaped + '"}'
    response = api.generic("POST", f"/api/sessions/{session.id}/messages/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["content"][0].startswith(message)
    assert ChatMessage.objects.count() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("case", BAD_TEXT, ids=list(BAD_TEXT))
async def test_the_websocket_refuses_bad_text_with_the_shared_message(
    session: ChatSession, client_token: str, case: str
) -> None:
    escaped, message = BAD_TEXT[case]
    ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session.id}/?token={client_token}")
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=10))["type"] == "connection"
    await ws.send_to(text_data='{"type": "text", "content": "' + escaped + '"}')
    error = await ws.receive_json_from(timeout=10)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=10) == {"type": "pong"}, "the socket stays usable"
    await ws.disconnect()
    assert error["type"] == "error"
    assert error["code"] == "invalid_field"
    assert error["message"].startswith(message)
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


def test_rest_text_fields_beyond_messages_follow_the_same_rule(api: APIClient) -> None:
    body = '{"child_age": 7, "level_description": "a\\u0000b", "initial_message": "hi \\ud800"}'
    response = api.generic("POST", "/api/sessions/", body, content_type="application/json")
    assert response.status_code == 400
    assert "U+0000" in response.json()["level_description"][0]
    assert "U+D800" in response.json()["initial_message"][0]
