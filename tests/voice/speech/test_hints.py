"""Ranking a level's hints by what the child said."""

from __future__ import annotations

from voice.context import Hint
from voice.speech.hints import hint_index

DOOR = Hint(topic="opening the door", text="Find the key.", examples=("how do I open the door",))
JUMP = Hint(topic="jumping", text="Press the green button.", examples=("how do I jump",))


def test_the_hint_whose_example_matches_ranks_first() -> None:
    ranked = hint_index((DOOR, JUMP)).rank("the door won't open")
    assert ranked[0].hint == DOOR
    assert ranked[0].score > ranked[1].score


def test_every_hint_is_ranked_once() -> None:
    assert sorted(m.hint.topic for m in hint_index((DOOR, JUMP)).rank("hello")) == ["jumping", "opening the door"]


def test_no_hints_rank_nothing() -> None:
    assert hint_index(()).rank("anything") == []


def test_the_index_for_one_set_of_hints_is_built_once() -> None:
    assert hint_index((DOOR, JUMP)) is hint_index((DOOR, JUMP))
