"""The system instruction every brain gets."""

from __future__ import annotations

import pytest

from voice.context import ConversationContext, Hint, LevelContext
from voice.instructions import BEHAVIOUR_RULES, build_system_instruction, hints_from_instruction

LEVEL = LevelContext("The Castle", "The red door is locked.", (Hint("the door", "Find the key.", ("how?",)),))


def test_every_behaviour_rule_is_in_the_instruction() -> None:
    instruction = build_system_instruction(ConversationContext("s", 6, LEVEL))
    for rule in BEHAVIOUR_RULES:
        assert rule in instruction


def test_the_instruction_names_the_age_the_level_and_its_hints() -> None:
    instruction = build_system_instruction(ConversationContext("s", 8, LEVEL, initial_message="Stuck at the door"))
    assert "8 years old" in instruction
    assert "The red door is locked." in instruction
    assert "the door (a child might ask: how?): Find the key." in instruction
    assert "Stuck at the door" in instruction


@pytest.mark.parametrize(("age", "phrase"), [(4, "very young"), (7, "familiar words"), (10, "two small steps")])
def test_the_words_fit_the_childs_age(age: int, phrase: str) -> None:
    assert phrase in build_system_instruction(ConversationContext("s", age, LEVEL))


def test_the_hints_can_be_read_back_from_an_instruction() -> None:
    hints = (Hint("the door", "Find the key.", ("how do I open it", "it is locked")), Hint("jumping", "Press A."))
    level = LevelContext("T", "D", hints)
    assert hints_from_instruction(build_system_instruction(ConversationContext("s", 6, level))) == hints


def test_an_instruction_without_hints_has_none() -> None:
    assert hints_from_instruction("Be nice.") == ()
