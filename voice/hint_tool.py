"""The ``get_hint`` function a model may call: answered from the level's authored hint ladders, gentle to specific,
never from the level's answers.

The declaration is plain data here; ``voice/gemini/sdk.py`` turns it into the SDK's types for Live and the text
models. :class:`HintLadders` remembers, for one conversation, how far up each ladder the helper has already gone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from voice.context import GameState, Hint, LevelContext
from voice.game_state import content_words, order_by_game_state
from voice.manners import check_reply

GET_HINT: Final = "get_hint"


class Specificity(enum.StrEnum):
    GENTLE = "gentle"  # the first step of the ladder
    NEXT = "next"  # one step more specific than the last one given about this topic
    SPECIFIC = "specific"  # the most specific step


GET_HINT_DESCRIPTION: Final = (
    "Get a hint the game's authors wrote for this level, for the part the child is stuck on. Hints come in steps "
    "from gentle to specific: ask for 'next' each time the child is still stuck. Say the hint in your own words; "
    "it never contains the answer, and you must not give the answer either."
)
GET_HINT_PARAMETERS: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "topic": {
            "type": "string",
            "description": "What the child is stuck on (a step, an item, a place), in a few words. Empty: the "
            "part the game says the child is on now.",
        },
        "specificity": {
            "type": "string",
            "enum": [s.value for s in Specificity],
            "description": "gentle: the first nudge; next: one step more specific than last time; specific: the "
            "most specific hint there is.",
        },
    },
}

MAX_TOPIC_CHARS: Final = 200


@dataclass(frozen=True)
class HintCall:
    """A ``get_hint`` call as the model made it, already bounded."""

    topic: str = ""
    specificity: Specificity = Specificity.NEXT

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any] | None) -> HintCall:
        """Lenient: a model's arguments are not the child's input; unknown or odd values fall back to defaults."""
        arguments = arguments or {}
        topic = arguments.get("topic")
        raw = arguments.get("specificity")
        specificity = Specificity(raw) if isinstance(raw, str) and raw in set(Specificity) else Specificity.NEXT
        return cls(topic=topic.strip()[:MAX_TOPIC_CHARS] if isinstance(topic, str) else "", specificity=specificity)

    def as_arguments(self) -> dict[str, str]:
        return {"topic": self.topic, "specificity": self.specificity.value}


@dataclass
class HintLadders:
    """One conversation's progress up each hint's ladder (by topic)."""

    given: dict[str, int] = field(default_factory=dict)  # topic → the highest step given, 0-based

    def answer(self, call: HintCall, level: LevelContext, state: GameState | None = None) -> dict[str, Any]:
        """The function response: the chosen hint's step, or a note that there is none. Steps that would say one
        of the level's answers outright are never given (an authoring slip must not reach the child)."""
        hint = _choose(level.hints, call.topic, state)
        if hint is None:
            return {
                "found": False,
                "note": "The authors wrote no hint for this level. Ask the child what they see and what they tried.",
            }
        steps = [step for step in hint.steps if not check_reply(step, level.answers)]
        if not steps:
            return {"found": False, "topic": hint.topic, "note": "No hint for this can be given without the answer."}
        last = len(steps) - 1
        previous = self.given.get(hint.topic)
        match call.specificity:
            case Specificity.GENTLE:
                number = 0
            case Specificity.SPECIFIC:
                number = last
            case Specificity.NEXT:
                number = 0 if previous is None else min(previous + 1, last)
        self.given[hint.topic] = max(number, previous if previous is not None else number)
        return {
            "found": True,
            "topic": hint.topic,
            "step": number + 1,
            "steps": len(steps),
            "hint": steps[number],
            "more_specific_available": number < last,
            "say_it": "In your own words, short and warm; never the answer.",
        }


def _choose(hints: tuple[Hint, ...], topic: str, state: GameState | None) -> Hint | None:
    """The hint whose topic and example questions share most words with ``topic``; with no topic (or no word in
    common), the one the game state points at, else the first."""
    if not hints:
        return None
    ordered = order_by_game_state(hints, state)
    wanted = content_words(topic)
    if wanted:
        scored = [(len(wanted & content_words(" ".join((h.topic, *h.examples)))), -i, h) for i, h in enumerate(ordered)]
        best_score, _, best = max(scored, key=lambda entry: (entry[0], entry[1]))
        if best_score:
            return best
    return ordered[0]
