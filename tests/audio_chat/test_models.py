"""Model validation: a child's age and a level's hints."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from audio_chat.models import ChatSession, Level, hint_steps, validate_hints
from audio_chat.services import level_context, session_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("age", [3, 11])
def test_a_child_age_outside_4_to_10_is_invalid(age: int) -> None:
    with pytest.raises(ValidationError, match="child_age"):
        session_create(child_age=age, level_description="A maze")


def test_the_database_refuses_an_age_outside_4_to_10_too() -> None:
    with pytest.raises(IntegrityError):
        ChatSession.objects.create(child_age=12, level_description="A maze")


def test_a_session_on_a_catalog_level_takes_its_description() -> None:
    level = Level.objects.create(slug="l", title="L", description="Find the key.")
    assert session_create(child_age=5, level=level).level_description == "Find the key."


@pytest.mark.parametrize(
    "hints",
    [
        {},
        ["text"],
        [{"topic": "t"}],
        [{"topic": "t", "text": "x", "extra": 1}],
        [{"topic": "t", "text": "x", "examples": [1]}],
        [{"topic": "t", "steps": []}],
        [{"topic": "t", "steps": ["x", 2]}],
        [{"topic": "t", "steps": ["x"], "text": "y"}],
    ],
)
def test_malformed_hints_are_invalid(hints: object) -> None:
    with pytest.raises(ValidationError):
        validate_hints(hints)


def test_well_formed_hints_are_valid() -> None:
    validate_hints(
        [{"topic": "door", "text": "Find the key.", "examples": ["where is the key"]}, {"topic": "t", "text": "x"}]
    )


def test_hint_ladders_and_single_texts_are_both_valid() -> None:
    validate_hints([{"topic": "door", "steps": ["Look around.", "Look under the rug."]}, {"topic": "t", "text": "x"}])


def test_a_single_text_hint_is_a_one_step_ladder() -> None:
    assert hint_steps({"topic": "t", "text": "x"}) == ["x"]
    assert hint_steps({"topic": "t", "steps": ["a", "b"]}) == ["a", "b"]


def test_the_helper_sees_a_stored_ladder_as_a_hint_with_its_steps() -> None:
    hints = [{"topic": "door", "examples": ["how?"], "steps": ["Look around.", "Look in the kitchen."]}]
    level = Level.objects.create(slug="l2", title="L", description="d", hints=hints)
    hint = level_context(session_create(child_age=6, level=level)).hints[0]
    assert hint.steps == ("Look around.", "Look in the kitchen.")
    assert (hint.text, hint.examples) == ("Look around.", ("how?",))
