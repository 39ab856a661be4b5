"""The game's reported state: validated as a small object of scalars and short lists, and read for hint ranking."""

from __future__ import annotations

import pytest

from voice.context import Hint
from voice.game_state import (
    MAX_STATE_BYTES,
    GameStateRejected,
    as_context,
    as_json,
    order_by_game_state,
    relevance,
    validate_game_state,
)

DOOR = Hint("opening the red door", "The red door needs a key.", ("the door won't open",))
KEY = Hint("finding the key", "Look for something blue on the kitchen floor.", ("where is the key",))
USE = Hint("using the key", "Walk to the red door while you hold the key.", ())


def test_scalars_and_short_lists_are_accepted_and_lists_become_tuples() -> None:
    state = validate_game_state({"step": "find the key", "items": ["lamp", "rope"], "attempts": 2, "done": False})
    assert state == {"step": "find the key", "items": ("lamp", "rope"), "attempts": 2, "done": False}
    assert as_json(state)["items"] == ["lamp", "rope"]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (["step", 1], "must be a JSON object"),
        ({"step": {"nested": 1}}, "must be a string, number"),
        ({"items": [["a"]]}, "must be a string, number"),
        ({"items": list(range(21))}, "the limit is 20"),
        ({f"k{i}": i for i in range(21)}, "the limit is 20"),
        ({"step": "x" * 201}, "longer than 200"),
        ({"1bad": 1}, "must start with a letter"),
        ({"score": float("nan")}, "finite"),
        ({"step": "a\nb"}, "control characters"),
        ({f"k{i}": ["y" * 150] * 2 for i in range(8)}, f"the limit is {MAX_STATE_BYTES}"),
    ],
)
def test_anything_else_is_refused_with_a_clear_reason(value: object, says: str) -> None:
    with pytest.raises(GameStateRejected, match=says):
        validate_game_state(value)


def test_the_context_line_names_every_value() -> None:
    line = as_context(validate_game_state({"step": "red door", "items": ["key", "lamp"], "attempts": 3}))
    assert line.endswith("step: red door; items: key, lamp; attempts: 3")


def test_a_hint_naming_the_current_step_ranks_first() -> None:
    state = validate_game_state({"step": "use the key", "items": ["key"]})
    assert relevance(USE, state) > relevance(DOOR, state)
    assert order_by_game_state((DOOR, KEY, USE), state)[0] is USE


def test_without_a_state_the_authored_order_is_kept() -> None:
    assert order_by_game_state((DOOR, KEY, USE), None) == (DOOR, KEY, USE)
    assert order_by_game_state((DOOR, KEY, USE), validate_game_state({"attempts": 4})) == (DOOR, KEY, USE)
