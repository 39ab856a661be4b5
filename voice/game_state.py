"""What the game reports about the child's progress: a small JSON object, validated alike on REST and WebSocket,
and the words of it that say which hints matter now."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from voice.context import GameState, GameValue, Hint

MAX_STATE_BYTES: Final = 2048  # the whole object as compact JSON
MAX_KEYS: Final = 20
MAX_KEY_CHARS: Final = 40
MAX_STRING_CHARS: Final = 200
MAX_LIST_ITEMS: Final = 20
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about a step or an item.
_STOP_WORDS: Final = frozenset(
    {"the", "a", "an", "of", "to", "and", "or", "in", "on", "at", "is", "it", "do", "i", "my", "step", "level"}
)


class GameStateRejected(ValueError):
    """The reported state is not a small object of scalars and short lists; the message says what is wrong."""


def validate_game_state(value: Any) -> dict[str, GameValue]:
    """A JSON object of at most ``MAX_KEYS`` keys, each value a scalar (string, number, boolean, null) or a list of
    at most ``MAX_LIST_ITEMS`` scalars; at most ``MAX_STATE_BYTES`` as compact JSON.

    Raises:
        GameStateRejected: anything else.
    """
    if not isinstance(value, dict):
        raise GameStateRejected("The game state must be a JSON object.")
    if len(value) > MAX_KEYS:
        raise GameStateRejected(f"The game state has {len(value)} keys; the limit is {MAX_KEYS}.")
    state: dict[str, GameValue] = {}
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or not _KEY.match(key):
            raise GameStateRejected(
                f"Key {str(key)[:MAX_KEY_CHARS]!r} must start with a letter and use letters, digits, '_', '.' or '-' "
                f"(at most {MAX_KEY_CHARS} characters)."
            )
        if isinstance(item, list):
            if len(item) > MAX_LIST_ITEMS:
                raise GameStateRejected(f"'{key}' has {len(item)} items; the limit is {MAX_LIST_ITEMS}.")
            state[key] = tuple(_scalar(key, element) for element in item)
        else:
            state[key] = _scalar(key, item)
    size = len(json.dumps(as_json(state), separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_STATE_BYTES:
        raise GameStateRejected(f"The game state is {size} bytes as JSON; the limit is {MAX_STATE_BYTES}.")
    return state


def _scalar(key: str, value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GameStateRejected(f"'{key}' must be a finite number.")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise GameStateRejected(f"A text in '{key}' is longer than {MAX_STRING_CHARS} characters.")
        if any(ord(c) < 32 and c not in "\t" for c in value):
            raise GameStateRejected(f"A text in '{key}' contains control characters.")
        return value
    raise GameStateRejected(f"'{key}' must be a string, number, boolean, null or a list of those.")


def as_json(state: GameState) -> dict[str, Any]:
    """The state as plain JSON data (lists for tuples), to store or send."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in state.items()}


CONTEXT_PREFIX: Final = "The game reports (the child did not say this): "


def as_context(state: GameState) -> str:
    """The state as a line of context for a model."""
    return CONTEXT_PREFIX + describe(state)


def describe(state: GameState) -> str:
    """One line a model reads: ``step: find-key; items: lamp, rope; attempts: 3``."""
    parts = []
    for key, value in state.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


def content_words(text: str) -> set[str]:
    """The words of a text that can name a step or an item: lowercase, no filler words, plurals also singular."""
    words = {word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS}
    return words | {stem for word in words for stem in _stems(word)}


def _stems(word: str) -> tuple[str, ...]:
    """Plain forms a game's step or item names use: "keys" → "key", "using" → "use", "opened" → "open"."""
    if len(word) > 4 and word.endswith("ing"):
        return word[:-3], word[:-3] + "e"
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2], word[:-1]
    if len(word) > 3 and word.endswith("s"):
        return (word[:-1],)
    return ()


def state_words(state: Mapping[str, GameValue] | None) -> set[str]:
    """The words in the state's text values (numbers and booleans name no step or item)."""
    words: set[str] = set()
    for value in (state or {}).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):
                words |= content_words(item)
    return words


def relevance(hint: Hint, state: GameState | None) -> int:
    """How many of the state's words the hint's topic names (twice) or its examples and first step mention."""
    words = state_words(state)
    if not words:
        return 0
    in_topic = len(words & content_words(hint.topic))
    elsewhere = len(words & content_words(" ".join((*hint.examples, hint.text))))
    return 2 * in_topic + elsewhere


def order_by_game_state(hints: tuple[Hint, ...], state: GameState | None) -> tuple[Hint, ...]:
    """The hints about what the child is on now first; otherwise the authored order is kept."""
    if not state:
        return hints
    return tuple(sorted(hints, key=lambda hint: -relevance(hint, state)))
