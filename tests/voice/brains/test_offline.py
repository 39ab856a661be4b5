"""The offline hint brain on real embeddings: right hints for paraphrases, a floor for everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice.brains.offline import DIDNT_CATCH, GREETING, NO_LEVEL_HINTS, NO_MORE_HINTS, OfflineHintBrain
from voice.context import ConversationContext, Hint, LevelContext, Mode, Speaker, Turn

CATALOG = json.loads((Path(__file__).parents[3] / "audio_chat" / "fixtures" / "demo_levels.json").read_text())


def context_for(slug: str) -> ConversationContext:
    level = next(entry for entry in CATALOG if entry["slug"] == slug)
    hints = tuple(Hint(h["topic"], h["text"], tuple(h["examples"])) for h in level["hints"])
    return ConversationContext("s", 6, LevelContext(level["title"], level["description"], hints))


CASTLE = context_for("castle-red-door")
HINT_TEXT = {hint.topic: hint.text for hint in CASTLE.level.hints}
brain = OfflineHintBrain()


# Paraphrases that are not among the authored examples.
@pytest.mark.parametrize(
    ("said", "topic"),
    [
        ("the door is shut and I can't get in", "opening the red door"),
        ("I looked everywhere for the key", "finding the key"),
        ("I picked up the key, what's next", "using the key"),
        ("how can I get past that red door", "opening the red door"),
    ],
)
async def test_a_paraphrased_question_gets_the_matching_hint(said: str, topic: str) -> None:
    reply = await brain.reply(CASTLE, [], said)
    assert reply.text == HINT_TEXT[topic]
    assert reply.mode is Mode.OFFLINE
    assert reply.model == "all-MiniLM-L6-v2"


@pytest.mark.parametrize("said", ["what is the capital of France", "my cat is orange", "purple submarine taxes"])
async def test_unrelated_speech_falls_under_the_floor(said: str) -> None:
    assert (await brain.reply(CASTLE, [], said)).text == DIDNT_CATCH


async def test_the_last_hint_is_not_repeated_when_another_fits() -> None:
    history = [Turn(Speaker.CHILD, "where is the key"), Turn(Speaker.ASSISTANT, HINT_TEXT["finding the key"])]
    reply = await brain.reply(CASTLE, history, "I still can't find the key to the door")
    assert reply.text != HINT_TEXT["finding the key"]
    assert reply.text in HINT_TEXT.values()


async def test_a_general_request_for_help_gives_the_next_unheard_hint() -> None:
    first = await brain.reply(CASTLE, [], "can you give me a hint")
    assert first.text == CASTLE.level.hints[0].text
    history = [Turn(Speaker.CHILD, "can you give me a hint"), Turn(Speaker.ASSISTANT, first.text)]
    second = await brain.reply(CASTLE, history, "I'm stuck, help me")
    assert second.text == CASTLE.level.hints[1].text


async def test_when_every_hint_was_heard_the_child_is_encouraged() -> None:
    history = [Turn(Speaker.ASSISTANT, hint.text) for hint in CASTLE.level.hints]
    assert (await brain.reply(CASTLE, history, "help me please")).text == NO_MORE_HINTS


async def test_a_level_without_hints_still_answers_a_request_for_help() -> None:
    free_text = ConversationContext("s", 6, LevelContext("", "A maze with a dragon"))
    assert (await brain.reply(free_text, [], "I don't know what to do")).text == NO_LEVEL_HINTS


async def test_a_greeting_is_answered_warmly() -> None:
    assert (await brain.reply(CASTLE, [], "hello there")).text == GREETING.text


async def test_a_higher_floor_rejects_weaker_matches() -> None:
    strict = OfflineHintBrain(similarity_floor=0.99)
    assert (await strict.reply(CASTLE, [], "the door is shut and I can't get in")).text == DIDNT_CATCH


@pytest.mark.parametrize("slug", [entry["slug"] for entry in CATALOG])
async def test_every_demo_hint_is_reached_by_its_own_first_example(slug: str) -> None:
    context = context_for(slug)
    for hint in context.level.hints:
        assert (await brain.reply(context, [], hint.examples[0])).text == hint.text
