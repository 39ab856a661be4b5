"""The emulator's images, context without a reply, and function calls, as the real google-genai SDK sees them."""

from __future__ import annotations

import asyncio

import pytest
from google.genai import types

from gemini_emulator import ScriptedResponder
from tests.gemini_emulator.conftest import MODEL, live_config, one_turn, output_text

GET_HINT_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(name="get_hint", description="A hint.", behavior=types.Behavior.NON_BLOCKING)
    ]
)


@pytest.fixture
def responder() -> ScriptedResponder:
    return ScriptedResponder(
        rules=[("key", "Look under the blue rug.")],
        tool_rules=[("stuck", "get_hint", {"topic": "door", "specificity": "next"})],
        tool_reply="Here is a hint: {hint}",
    )


async def test_a_realtime_image_is_recorded_byte_for_byte(emulator, client) -> None:
    picture = b"\xff\xd8\xff\xe0 not decoded by the emulator \xff\xd9"
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_realtime_input(video=types.Blob(data=picture, mime_type="image/jpeg"))
        await session.send_realtime_input(text="key?")
        await one_turn(session)
    assert emulator.records[0].images == [("image/jpeg", picture)]


async def test_a_realtime_image_of_another_type_closes_1007(emulator, client) -> None:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_realtime_input(video=types.Blob(data=b"GIF89a", mime_type="image/gif"))
        with pytest.raises(Exception, match="1007"):
            await one_turn(session)


async def test_context_without_turn_complete_gets_no_reply_but_is_remembered(emulator, client) -> None:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        context = types.Content(role="user", parts=[types.Part(text="The game reports: step: red door")])
        await session.send_client_content(turns=context, turn_complete=False)
        await asyncio.sleep(0.3)
        assert emulator.records[0].turns == [], "context alone starts no turn"
        await session.send_realtime_input(text="key?")
        await one_turn(session)
    assert emulator.records[0].client_content[0]["turnComplete"] is False
    assert [turn["user"] for turn in emulator.records[0].turns] == ["key?"]
    remembered = list(emulator.conversations.values())[-1].history  # the newest resumption snapshot
    assert ("user", "The game reports: step: red door") in remembered


async def test_a_declared_function_is_called_and_its_answer_spoken(emulator, client) -> None:
    config = live_config(tools=[GET_HINT_TOOL])
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(text="I am stuck")
        calls: list[types.FunctionCall] = []
        async for message in session.receive():
            if message.tool_call:
                calls.extend(message.tool_call.function_calls or [])
                break
        assert [(c.name, c.args) for c in calls] == [("get_hint", {"topic": "door", "specificity": "next"})]
        response = types.FunctionResponse(id=calls[0].id, name="get_hint", response={"hint": "Doors need keys."})
        await session.send_tool_response(function_responses=[response])
        messages = await one_turn(session)
    assert "Here is a hint: Doors need keys." in output_text(messages)
    assert emulator.records[0].tool_calls[0]["name"] == "get_hint"
    assert emulator.records[0].tool_responses[0]["functionResponses"][0]["response"] == {"hint": "Doors need keys."}


async def test_an_undeclared_function_is_never_called(emulator, client) -> None:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_realtime_input(text="I am stuck")
        messages = await one_turn(session)
    assert not any(m.tool_call for m in messages)
    assert emulator.records[0].tool_calls == []
