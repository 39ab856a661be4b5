"""Plain data that describes a conversation: the level, the child, the turns and the replies."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Speaker(enum.StrEnum):
    CHILD = "child"
    ASSISTANT = "assistant"
    TOOL = "tool"  # a function the model called and the service's answer: neither side's speech


class Mode(enum.StrEnum):
    """Which brain produced a reply; also the mode a connection runs in."""

    LIVE = "live"
    TEXT = "text"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Hint:
    """An authored hint: what it is about, how a child might ask for it, and what to say.

    A hint is a ladder: ``text`` is its gentlest step, ``more_steps`` are said, one at a time and each more
    specific, when the child asks about the same thing again. A hint written as one text is a one-step ladder.
    """

    topic: str
    text: str
    examples: tuple[str, ...] = ()
    more_steps: tuple[str, ...] = ()

    @property
    def steps(self) -> tuple[str, ...]:
        """Every step, gentle to specific."""
        return (self.text, *self.more_steps)


@dataclass(frozen=True)
class LevelContext:
    """What the helper knows about the level the child is playing."""

    title: str
    description: str
    hints: tuple[Hint, ...] = ()
    answers: tuple[str, ...] = ()  # what solves the level: the helper must not say it outright


GameValue = str | int | float | bool | None | tuple[str | int | float | bool | None, ...]
GameState = Mapping[str, GameValue]  # what the game reports: see voice/game_state.py


@dataclass(frozen=True)
class Picture:
    """A screenshot the game shared, already checked and re-encoded (``voice/images.py``)."""

    data: bytes
    mime_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ConversationContext:
    """Everything that shapes the helper's answers in one chat session.

    ``game_state`` is the newest state the game reported; ``picture`` is a screenshot shared since the last
    answer (given to the next brain request only).
    """

    session_id: str
    child_age: int
    level: LevelContext
    initial_message: str = ""
    voice_name: str = ""
    game_state: GameState | None = None
    picture: Picture | None = None
    # Answers a function the model calls (name, arguments) → result; set by the conversation for each request.
    tools: ToolHandler | None = field(default=None, compare=False, repr=False)


ToolHandler = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Turn:
    """One stored turn of the conversation, typed or transcribed."""

    speaker: Speaker
    text: str


@dataclass(frozen=True)
class Reply:
    """The helper's answer and the brain that produced it."""

    text: str
    mode: Mode
    model: str
    details: dict[str, str] = field(default_factory=dict)
