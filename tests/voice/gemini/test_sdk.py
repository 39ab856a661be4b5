"""The Gemini text brain, with the real google-genai SDK against a local generateContent stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gemini_rest_stub import GeminiRestStub, serve_gemini_rest
from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, Hint, LevelContext, Mode, Speaker, Turn
from voice.gemini.roster import ModelRoster
from voice.gemini.sdk import GeminiSettings, GeminiTextBrain, history_to_contents
from voice.instructions import BEHAVIOUR_RULES

CONTEXT = ConversationContext(
    session_id="s1",
    child_age=6,
    level=LevelContext(
        title="The Castle",
        description="The red door is locked.",
        hints=(Hint(topic="the red door", text="Look under the blue rug.", examples=("where is the key",)),),
    ),
)


@pytest.fixture
def stub() -> Iterator[GeminiRestStub]:
    with serve_gemini_rest(GeminiRestStub()) as running:
        yield running


def brain_for(stub: GeminiRestStub, models: list[str]) -> GeminiTextBrain:
    return GeminiTextBrain(
        GeminiSettings(api_key="test-key", base_url=stub.base_url, timeout_seconds=5), ModelRoster(models, "text")
    )


async def test_the_reply_comes_from_the_first_model_with_history_and_instructions(stub: GeminiRestStub) -> None:
    history = [Turn(Speaker.CHILD, "hi"), Turn(Speaker.ASSISTANT, "Hello!")]
    reply = await brain_for(stub, ["gemini-2.0-flash"]).reply(CONTEXT, history, "where is the key?")
    assert reply.text == stub.reply
    assert reply.mode is Mode.TEXT
    assert reply.model == "gemini-2.0-flash"
    request = stub.requests[0]
    assert request["version"] == "v1beta"
    assert request["headers"]["x-goog-api-key"] == "test-key"
    roles = [content["role"] for content in request["body"]["contents"]]
    assert roles == ["user", "model", "user"]
    assert request["body"]["contents"][-1]["parts"][0]["text"] == "where is the key?"
    instruction = request["body"]["systemInstruction"]["parts"][0]["text"]
    assert "Look under the blue rug." in instruction
    assert all(rule in instruction for rule in BEHAVIOUR_RULES)


async def test_a_retired_model_answering_404_hands_over_to_the_next(stub: GeminiRestStub) -> None:
    stub.retired = {"gemini-2.0-flash"}
    brain = brain_for(stub, ["gemini-2.0-flash", "gemini-3.5-flash"])
    reply = await brain.reply(CONTEXT, [], "help")
    assert reply.model == "gemini-3.5-flash"
    assert [r["model"] for r in stub.requests] == ["gemini-2.0-flash", "gemini-3.5-flash"]


async def test_a_retired_model_is_not_asked_again(stub: GeminiRestStub) -> None:
    stub.retired = {"gemini-2.0-flash"}
    brain = brain_for(stub, ["gemini-2.0-flash", "gemini-3.5-flash"])
    await brain.reply(CONTEXT, [], "help")
    await brain.reply(CONTEXT, [], "help again")
    assert [r["model"] for r in stub.requests] == ["gemini-2.0-flash", "gemini-3.5-flash", "gemini-3.5-flash"]
    assert brain.model == "gemini-3.5-flash"


async def test_a_server_error_is_reported_as_unavailable_without_trying_other_models(stub: GeminiRestStub) -> None:
    stub.failing = {"gemini-2.0-flash"}
    with pytest.raises(BrainUnavailable, match="503"):
        await brain_for(stub, ["gemini-2.0-flash", "gemini-3.5-flash"]).reply(CONTEXT, [], "help")
    assert len(stub.requests) == 1


async def test_every_model_retired_is_unavailable(stub: GeminiRestStub) -> None:
    stub.retired = {"a", "b"}
    with pytest.raises(BrainUnavailable, match="No configured Gemini text model"):
        await brain_for(stub, ["a", "b"]).reply(CONTEXT, [], "help")


async def test_an_unreachable_server_is_unavailable() -> None:
    settings = GeminiSettings(api_key="k", base_url="http://127.0.0.1:9", timeout_seconds=2)
    with pytest.raises(BrainUnavailable):
        await GeminiTextBrain(settings, ModelRoster(["gemini-3.5-flash"], "text")).reply(CONTEXT, [], "help")


def test_history_merges_consecutive_turns_of_one_speaker_and_skips_empty_ones() -> None:
    history = [
        Turn(Speaker.ASSISTANT, "Hi!"),
        Turn(Speaker.CHILD, "one"),
        Turn(Speaker.CHILD, " "),
        Turn(Speaker.CHILD, "two"),
    ]
    contents = history_to_contents(history, "three")
    assert [c.role for c in contents] == ["model", "user"]
    assert [p.text for p in contents[1].parts or []] == ["one", "two", "three"]
