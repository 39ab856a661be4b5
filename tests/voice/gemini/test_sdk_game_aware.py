"""Text mode with what the game shares: the picture and the game state go in the request, get_hint is answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gemini_emulator.wire import decode_blob_data, normalize_keys
from tests.gemini_rest_stub import GeminiRestStub, serve_gemini_rest
from tests.voice.fakes import MemoryStore
from voice.context import ConversationContext, Hint, LevelContext, Picture
from voice.conversation import Conversation
from voice.game_state import validate_game_state
from voice.gemini.roster import ModelRoster
from voice.gemini.sdk import GeminiSettings, GeminiTextBrain

LADDER = ("Doors like this need a key.", "Look on the kitchen floor.")
CONTEXT = ConversationContext(
    session_id="s1",
    child_age=6,
    level=LevelContext(
        title="The Castle",
        description="The red door is locked.",
        hints=(Hint("the red door", LADDER[0], ("how do I open the door",), more_steps=LADDER[1:]),),
        answers=("under the blue rug",),
    ),
)
PICTURE = Picture(data=b"\xff\xd8\xff a small jpeg \xff\xd9", mime_type="image/jpeg", width=4, height=3)


@pytest.fixture
def stub() -> Iterator[GeminiRestStub]:
    with serve_gemini_rest(GeminiRestStub()) as running:
        yield running


def chat(stub: GeminiRestStub, store: MemoryStore) -> Conversation:
    brain = GeminiTextBrain(
        GeminiSettings(api_key="k", base_url=stub.base_url, timeout_seconds=5), ModelRoster(["gemini-3.5-flash"], "t")
    )
    return Conversation(context=CONTEXT, store=store, brain=brain)


async def test_the_picture_and_the_newest_state_go_with_the_question(stub: GeminiRestStub) -> None:
    store = MemoryStore()
    conversation = chat(stub, store)
    await conversation.report_game_state(validate_game_state({"step": "red door", "items": ["lamp"]}))
    conversation.share_picture(PICTURE)
    await conversation.answer("what do I do here?")
    parts = stub.requests[0]["body"]["contents"][-1]["parts"]
    assert parts[0] == {"text": "what do I do here?"}
    assert any("step: red door; items: lamp" in p.get("text", "") for p in parts)
    images = [normalize_keys(p["inlineData"]) for p in parts if "inlineData" in p]  # the SDK writes snake_case
    assert [(i["mimeType"], decode_blob_data(i["data"])) for i in images] == [("image/jpeg", PICTURE.data)]
    assert store.game_states == [{"step": "red door", "items": ["lamp"]}]


async def test_the_picture_is_sent_once_and_the_state_every_time(stub: GeminiRestStub) -> None:
    conversation = chat(stub, MemoryStore())
    await conversation.report_game_state(validate_game_state({"step": "red door"}))
    conversation.share_picture(PICTURE)
    await conversation.answer("what now?")
    await conversation.answer("and now?")
    second = stub.requests[1]["body"]["contents"][-1]["parts"]
    assert not any("inlineData" in p for p in second)
    assert any("step: red door" in p.get("text", "") for p in second)


async def test_get_hint_is_declared_and_answered_from_the_ladder_then_stored_as_a_tool_turn(stub) -> None:
    stub.function_calls = [{"name": "get_hint", "args": {"topic": "door", "specificity": "next"}}]
    store = MemoryStore()
    exchange = await chat(stub, store).answer("how do I open the door?")
    assert exchange.reply.text == stub.reply
    declared = stub.requests[0]["body"]["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "get_hint" and "behavior" not in declared
    answered = stub.requests[1]["body"]["contents"][-1]["parts"][0]["functionResponse"]
    assert answered["name"] == "get_hint"
    assert answered["response"]["hint"] == LADDER[0]
    assert "blue rug" not in str(answered)
    assert store.tool_turns == [
        ("get_hint", {"topic": "door", "specificity": "next"}, answered["response"]),
    ]
