"""Model validation: a child's age and a level's hints."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from audio_chat.models import ChatSession, Level, validate_hints
from audio_chat.services import session_create

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
    ],
)
def test_malformed_hints_are_invalid(hints: object) -> None:
    with pytest.raises(ValidationError):
        validate_hints(hints)


def test_well_formed_hints_are_valid() -> None:
    validate_hints(
        [{"topic": "door", "text": "Find the key.", "examples": ["where is the key"]}, {"topic": "t", "text": "x"}]
    )
