"""Recognising what the child is doing from their words, without any model."""

from __future__ import annotations

import pytest

from voice.brains.understanding import (
    AnswerKey,
    Attempt,
    Intent,
    already_done,
    asks_about_playing,
    heard_nothing_useful,
    intent_of,
    words,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is it SEVEN?", ["is", "it", "7"]),
        ("it's twenty one", ["it", "is", "21"]),
        ("I\u2019m thirty", ["i", "am", "30"]),
        ("C, A, T!", ["c", "a", "t"]),
    ],
)
def test_words_are_lower_case_with_numbers_as_digits(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(("text", "nothing"), [("", True), ("um... uh", True), ("?!", True), ("no", False)])
def test_only_fillers_are_nothing_useful(text: str, nothing: bool) -> None:
    assert heard_nothing_useful(text) is nothing


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I did it!", Intent.CELEBRATION),
        ("we finished it, thank you", Intent.CELEBRATION),
        ("thank you so much", Intent.THANKS),
        ("hello helper", Intent.GREETING),
        ("hi there friend", Intent.GREETING),
        ("I don't get it", Intent.HELP),
        ("I still dont understand", Intent.HELP),
        ("this is too hard", Intent.HELP),
        ("hello, how do I open the door", Intent.OTHER),
        ("where is the key", Intent.OTHER),
    ],
)
def test_social_intents_are_recognised(text: str, intent: Intent) -> None:
    assert intent_of(text) is intent


SEVEN = AnswerKey.of(["7", "seven"])
RUG = AnswerKey.of(["under the blue rug", "under the rug"])
CAT = AnswerKey.of(["C A T"])


@pytest.mark.parametrize(
    ("key", "text", "attempt"),
    [
        (SEVEN, "is it 7?", Attempt.RIGHT),
        (SEVEN, "is it seven", Attempt.RIGHT),
        (SEVEN, "seven!", Attempt.RIGHT),
        (SEVEN, "there are 7 flowers", Attempt.RIGHT),
        (SEVEN, "is it 8?", Attempt.WRONG),
        (SEVEN, "eight", Attempt.WRONG),
        (SEVEN, "I am seven years old", Attempt.NONE),
        (SEVEN, "what is three plus four", Attempt.NONE),
        (SEVEN, "is it seven or eight?", Attempt.NONE),
        (SEVEN, "3 and 4 makes 7", Attempt.RIGHT),
        (SEVEN, "how do I type it", Attempt.NONE),
        (RUG, "I looked under the rug and found it", Attempt.RIGHT),
        (RUG, "is it under the bed", Attempt.WRONG),
        (RUG, "where is the key", Attempt.NONE),
        (CAT, "cat", Attempt.RIGHT),
        (CAT, "is it c a t", Attempt.RIGHT),
        (CAT, "my cat is orange", Attempt.NONE),
        (AnswerKey.of([]), "is it 7", Attempt.NONE),
    ],
)
def test_answer_attempts_are_checked_after_normalising(key: AnswerKey, text: str, attempt: Attempt) -> None:
    assert key.check(text) is attempt


def test_an_answer_is_found_in_helper_text_even_spelled_out_as_a_list() -> None:
    assert CAT.mentioned_in("Put the letters C, A and T in order")
    assert SEVEN.mentioned_in("It is seven.")
    assert not RUG.mentioned_in("Look in the kitchen.")


def test_a_hint_about_finding_something_the_child_has_is_already_done() -> None:
    assert already_done("I got the gold key, where does it go?", "finding the key")
    assert not already_done("I got the gold key, where does it go?", "using the key")
    assert not already_done("where is the key", "finding the key")


@pytest.mark.parametrize(
    ("text", "asks"), [("how do I get out", True), ("it won't move", True), ("I like dogs", False)]
)
def test_questions_about_playing_are_recognised(text: str, asks: bool) -> None:
    assert asks_about_playing(text) is asks
