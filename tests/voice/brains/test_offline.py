"""The offline tutor on real embeddings: it recognises what the child is doing, climbs hint ladders, never tells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice.brains.offline import (
    BACK_TO_THE_GAME,
    CELEBRATION,
    DESCRIPTION_STEPS,
    DIDNT_CATCH,
    GREETING,
    NO_MORE_HINTS,
    ONCE_MORE,
    RIGHT_ANSWER,
    THANKS,
    WHAT_DO_YOU_SEE,
    WRONG_ANSWER,
    OfflineHintBrain,
    authored_replies,
    goal_of,
)
from voice.context import ConversationContext, Hint, LevelContext, Mode, Speaker, Turn
from voice.manners import check_reply
from voice.speech.tts import split_sentences

CATALOG = json.loads((Path(__file__).parents[3] / "audio_chat" / "fixtures" / "demo_levels.json").read_text())


def context_for(slug: str) -> ConversationContext:
    level = next(entry for entry in CATALOG if entry["slug"] == slug)
    hints = tuple(
        Hint(h["topic"], h["steps"][0], tuple(h["examples"]), more_steps=tuple(h["steps"][1:])) for h in level["hints"]
    )
    level_context = LevelContext(level["title"], level["description"], hints, tuple(level["answers"]))
    return ConversationContext("s", 6, level_context)


CASTLE = context_for("castle-red-door")
GARDEN = context_for("counting-garden")
BRIDGE = context_for("letter-bridge")
CASTLE_HINT = {hint.topic: hint for hint in CASTLE.level.hints}
WITHOUT_HINTS = ConversationContext(
    "s", 6, LevelContext("", "A dark maze. The child must lead the little dragon out of the maze to its cave.")
)
brain = OfflineHintBrain()


async def ask(context: ConversationContext, *said: str) -> list[str]:
    """The helper's replies to the child's turns, each turn answered with the conversation so far."""
    history: list[Turn] = []
    replies = []
    for text in said:
        reply = await brain.reply(context, history, text)
        history += [Turn(Speaker.CHILD, text), Turn(Speaker.ASSISTANT, reply.text)]
        replies.append(reply.text)
    return replies


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
async def test_a_paraphrased_question_gets_the_gentle_step_of_the_matching_hint(said: str, topic: str) -> None:
    reply = await brain.reply(CASTLE, [], said)
    assert reply.text == CASTLE_HINT[topic].text
    assert reply.mode is Mode.OFFLINE
    assert reply.model == "all-MiniLM-L6-v2"


async def test_saying_what_they_already_have_moves_on_to_the_next_hint() -> None:
    reply = await brain.reply(CASTLE, [], "I got the gold key, where does it go?")
    assert reply.text == CASTLE_HINT["using the key"].text


@pytest.mark.parametrize("said", ["is it seven?", "is it 7?", "Seven!", "7", "it's seven", "I think it is 7"])
async def test_the_right_answer_in_digits_or_words_is_confirmed_without_being_repeated(said: str) -> None:
    reply = await brain.reply(GARDEN, [], said)
    assert reply.text in RIGHT_ANSWER
    assert reply.details["intent"] == "right_answer"
    assert check_reply(reply.text, GARDEN.level.answers) == []


@pytest.mark.parametrize(("context", "said"), [(CASTLE, "is the key under the rug?"), (BRIDGE, "is it cat")])
async def test_a_right_answer_that_is_not_a_number_is_confirmed(context: ConversationContext, said: str) -> None:
    assert (await brain.reply(context, [], said)).text in RIGHT_ANSWER


@pytest.mark.parametrize("said", ["is it eight?", "8", "I counted twelve"])
async def test_a_wrong_answer_gets_encouragement_and_the_next_hint(said: str) -> None:
    reply = await brain.reply(GARDEN, [], said)
    assert reply.text == f"{WRONG_ANSWER} {GARDEN.level.hints[0].text}"
    assert check_reply(reply.text, GARDEN.level.answers) == []


async def test_a_second_wrong_answer_gets_a_more_specific_step() -> None:
    first, second = await ask(GARDEN, "is it 8", "is it nine")
    assert second == f"{WRONG_ANSWER} {GARDEN.level.hints[0].steps[1]}"
    assert first != second


async def test_saying_their_age_is_not_taken_for_an_answer() -> None:
    reply = await brain.reply(GARDEN, [], "I am seven years old")
    assert reply.details["intent"] == "off_topic"


async def test_a_question_about_numbers_is_not_taken_for_an_answer() -> None:
    assert (await brain.reply(GARDEN, [], "what is three plus four")).text == GARDEN.level.hints[0].text


@pytest.mark.parametrize(("said", "expected"), [("I did it!", CELEBRATION), ("yay it worked", CELEBRATION)])
async def test_success_is_celebrated(said: str, expected: str) -> None:
    assert (await brain.reply(GARDEN, [], said)).text == expected


@pytest.mark.parametrize("said", ["thank you!", "thanks helper"])
async def test_thanks_is_answered_with_you_are_welcome(said: str) -> None:
    assert (await brain.reply(CASTLE, [], said)).text == THANKS


async def test_thanks_with_a_question_answers_the_question() -> None:
    reply = await brain.reply(CASTLE, [], "thanks, but how do I open the red door?")
    assert reply.text == CASTLE_HINT["opening the red door"].text


@pytest.mark.parametrize("said", ["hello there", "hi", "good morning helper"])
async def test_a_greeting_is_answered_warmly(said: str) -> None:
    assert (await brain.reply(CASTLE, [], said)).text == GREETING


@pytest.mark.parametrize("said", ["what is the capital of France", "my cat is orange", "do you like pizza"])
async def test_off_topic_talk_is_kindly_steered_back_to_the_game(said: str) -> None:
    reply = await brain.reply(CASTLE, [], said)
    assert reply.text.startswith(BACK_TO_THE_GAME)
    assert "red door" in reply.text, "the redirect reads back the level's goal"
    assert check_reply(reply.text, CASTLE.level.answers) == []


@pytest.mark.parametrize("said", ["", "   ", "um", "uh hmm", "?!"])
async def test_only_empty_or_filler_input_is_not_caught(said: str) -> None:
    assert (await brain.reply(CASTLE, [], said)).text == DIDNT_CATCH


@pytest.mark.parametrize("said", ["I don't get it", "I'm stuck", "can you give me a hint", "help me please"])
async def test_a_general_request_for_help_gets_the_first_hint(said: str) -> None:
    reply = await brain.reply(GARDEN, [], said)
    assert reply.text == GARDEN.level.hints[0].text
    assert reply.details["intent"] == "help"


async def test_asking_again_about_the_same_thing_climbs_the_ladder_to_its_most_specific_step() -> None:
    door = CASTLE_HINT["opening the red door"]
    replies = await ask(CASTLE, "how do I open the red door", "the door still won't open", "I can't open the door")
    assert replies == list(door.steps)
    assert (await ask(CASTLE, *["how do I open the red door"] * 4))[-1] == f"{ONCE_MORE} {door.steps[-1]}"


async def test_i_dont_get_it_after_a_hint_gives_its_next_step() -> None:
    replies = await ask(GARDEN, "how do I add them", "I don't get it")
    assert replies == list(GARDEN.level.hints[0].steps[:2])


async def test_help_after_a_finished_ladder_moves_to_the_next_hint_not_yet_heard() -> None:
    adding = GARDEN.level.hints[0]
    replies = await ask(GARDEN, *["help"] * (len(adding.steps) + 1))
    assert replies[: len(adding.steps)] == list(adding.steps)
    assert replies[-1] == GARDEN.level.hints[1].text


async def test_when_every_step_of_every_hint_was_heard_the_child_is_encouraged() -> None:
    history = [Turn(Speaker.ASSISTANT, step) for hint in CASTLE.level.hints for step in hint.steps]
    assert (await brain.reply(CASTLE, history, "help me please")).text == NO_MORE_HINTS


async def test_a_level_without_hints_reads_back_its_goal_and_asks_what_the_child_sees() -> None:
    reply = await brain.reply(WITHOUT_HINTS, [], "how do I get out?")
    assert "you need to lead the little dragon out of the maze" in reply.text
    assert reply.text.endswith(WHAT_DO_YOU_SEE)


async def test_a_level_without_hints_gives_smaller_steps_when_asked_again() -> None:
    replies = await ask(WITHOUT_HINTS, "I'm stuck", "I still don't know", "help", "help")
    assert replies[1:] == [*DESCRIPTION_STEPS, DESCRIPTION_STEPS[-1]]
    assert DIDNT_CATCH not in replies


async def test_a_level_with_only_a_description_never_answers_clear_words_with_didnt_catch() -> None:
    said = ["hello", "where is the dragon's cave", "the maze is too dark", "thank you", "I like trains"]
    assert DIDNT_CATCH not in await ask(WITHOUT_HINTS, *said)


def test_the_goal_read_back_never_says_an_answer_hidden_in_the_description() -> None:
    assert "rug" not in goal_of(CASTLE.level)
    assert goal_of(CASTLE.level) == "In this level, you need to find it and carry it to the red door."
    assert "cat" not in goal_of(BRIDGE.level).lower().split()
    assert check_reply(goal_of(BRIDGE.level), ("C, A, T",)) == []


async def test_a_higher_floor_rejects_weaker_matches() -> None:
    strict = OfflineHintBrain(similarity_floor=0.99)
    reply = await strict.reply(CASTLE, [], "the door is shut and I can't get in")
    assert reply.details["intent"] == "help", "a clear question below the floor still gets help"


@pytest.mark.parametrize("slug", [entry["slug"] for entry in CATALOG])
async def test_every_demo_hint_is_reached_by_its_own_first_example(slug: str) -> None:
    context = context_for(slug)
    for hint in context.level.hints:
        assert (await brain.reply(context, [], hint.examples[0])).text == hint.text


@pytest.mark.parametrize("slug", [entry["slug"] for entry in CATALOG])
def test_no_demo_hint_step_gives_the_answer(slug: str) -> None:
    context = context_for(slug)
    for hint in context.level.hints:
        for step in hint.steps:
            assert check_reply(step, context.level.answers) == [], step


@pytest.mark.parametrize("context", [CASTLE, GARDEN, WITHOUT_HINTS], ids=["castle", "garden", "no-hints"])
async def test_every_sentence_the_tutor_says_is_among_its_authored_replies(context: ConversationContext) -> None:
    # Speech made ahead from authored_replies then covers whole replies, sentence by sentence.
    known = {sentence for text in authored_replies(context.level) for sentence in split_sentences(text)}
    said = ("hello", "how do I get in", "is it 8?", "is it 8?", "I don't get it", "I still don't get it", "thanks")
    replies = await ask(context, *said, "do you like pizza?", "I did it!", "um", "I'm stuck", "I'm stuck")
    for reply in replies:
        assert set(split_sentences(reply)) <= known, reply
