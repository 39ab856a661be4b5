"""The game-aware helper in live mode, through the WebSocket, against the emulator with the real google-genai SDK:
pictures reach the model as image input, game state as context without a reply, get_hint is answered from the
authored hints."""

from __future__ import annotations

import base64
import io

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings
from PIL import Image

from audio_chat import realtime
from audio_chat.models import ChatMessage, ChatSession
from gemini_emulator import ScriptedResponder
from tests.audio_chat.ws_client import connect_client
from tests.images import ARTIST, NOT_AN_IMAGE, png_bomb, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def responder() -> ScriptedResponder:
    return ScriptedResponder(
        rules=[("key", "Look around the kitchen.")],
        tool_rules=[("stuck", "get_hint", {"topic": "door", "specificity": "next"})],
        tool_reply="{hint}",
    )


async def test_a_picture_sent_mid_session_reaches_the_model_as_image_input(emulator, session) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    original = screenshot((1600, 900))
    await client.ws.send_json_to({"type": "image", "content": base64.b64encode(original).decode()})
    await client.until(lambda: emulator.records[0].images)
    await client.leave()
    ((mime, data),) = emulator.records[0].images
    sent = Image.open(io.BytesIO(data))
    assert mime == "image/jpeg" and sent.format == "JPEG"
    assert sent.size == (1024, 576)
    assert ARTIST not in sent.getexif() and b"Emma" not in data
    assert client.messages("error") == []


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (base64.b64encode(NOT_AN_IMAGE).decode(), "invalid_image"),
        (base64.b64encode(png_bomb()).decode(), "image_too_large"),
        ("not base64 at all!", "invalid_image"),
    ],
)
async def test_a_bad_picture_gets_an_error_and_nothing_reaches_the_model(emulator, session, content, code) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "image", "content": content})
    await client.until(lambda: client.messages("error"))
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    assert client.messages("error")[0]["code"] == code
    assert emulator.records[0].images == []


async def test_game_state_reaches_the_model_as_context_without_a_reply_and_is_kept(emulator, session) -> None:
    client = await connect_client(session)
    state = {"step": "red door", "items": ["lamp"], "attempts": 2}
    await client.ws.send_json_to({"type": "game_state", "state": state})
    await client.until(lambda: emulator.records and emulator.records[0].client_content)
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    context = emulator.records[0].client_content[0]
    assert context.get("turnComplete") is False
    assert "step: red door; items: lamp; attempts: 2" in context["turns"][0]["parts"][0]["text"]
    assert [turn["user"] for turn in emulator.records[0].turns] == ["where is the key?"], "no reply to the state"
    stored = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert stored.game_state == state


async def test_a_bad_game_state_gets_an_error(emulator, session) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "game_state", "state": {"step": {"deep": True}}})
    await client.until(lambda: client.messages("error"))
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    assert client.messages("error")[0]["code"] == "invalid_game_state"
    assert [content.get("turnComplete") for content in emulator.records[0].client_content] == [True], "the question"
    assert (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).game_state is None


def transcript(session: ChatSession) -> list[tuple[str, str, str, object]]:
    rows = ChatMessage.objects.filter(session=session).values_list("sender", "message_type", "text", "tool")
    return [(sender, kind, text, tool) for sender, kind, text, tool in rows]


async def test_get_hint_is_answered_from_the_authored_hints_and_stored_as_a_tool_turn(emulator, session, castle):
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "I am stuck"})
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    door_hint = castle.hints[0]["steps"][0]
    response = emulator.records[0].tool_responses[0]["functionResponses"][0]
    assert response["name"] == "get_hint" and response["response"]["hint"] == door_hint
    assert response["id"] == emulator.records[0].tool_calls[0]["id"]
    assert not any(answer in str(response) for answer in castle.answers)
    assert client.messages("response")[0]["content"] == f"[tone] {door_hint}"
    rows = await database_sync_to_async(transcript)(session)
    assert [(sender, kind) for sender, kind, _, _ in rows] == [
        ("child", "text"),
        ("tool", "tool_call"),
        ("assistant", "audio"),
    ]
    tool = rows[1][3]
    assert tool["name"] == "get_hint" and tool["arguments"] == {"topic": "door", "specificity": "next"}
    assert rows[1][2] == door_hint


async def test_get_hint_is_declared_non_blocking_to_a_model_that_supports_it(emulator, session) -> None:
    client = await connect_client(session)
    await client.until(lambda: emulator.records and emulator.records[0].setup)
    await client.leave()
    declaration = emulator.records[0].setup["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_hint"
    assert declaration["behavior"] == "NON_BLOCKING"
    assert "affectiveDialog" not in str(emulator.records[0].setup), "off by default"
    assert emulator.records[0].api_version == "v1beta"


async def test_affective_dialog_and_proactive_audio_switch_the_session_to_v1alpha(emulator, session) -> None:
    with override_settings(LIVE_AFFECTIVE_DIALOG=True, LIVE_PROACTIVE_AUDIO=True):
        realtime.reset()
        client = await connect_client(session)
        await client.until(lambda: emulator.records and emulator.records[0].setup)
        await client.leave()
    setup = emulator.records[0].setup
    assert emulator.records[0].api_version == "v1alpha"
    assert setup["generationConfig"]["enableAffectiveDialog"] is True
    assert setup["proactivity"] == {"proactiveAudio": True}
