"""In-memory stand-ins for the realtime core's collaborators."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, Mode, Reply, Speaker, Turn


@dataclass
class MemoryStore:
    turns: list[tuple[Speaker, str, Mode | None, str, bool, bool]] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)

    async def recent_turns(self, limit: int) -> list[Turn]:
        return [Turn(turn[0], turn[1]) for turn in self.turns[-limit:]]

    async def add_turn(
        self,
        speaker: Speaker,
        text: str,
        *,
        mode: Mode | None,
        model: str,
        spoken: bool = False,
        interrupted: bool = False,
        flags: Sequence[str] = (),
    ) -> None:
        self.turns.append((speaker, text, mode, model, spoken, interrupted))
        self.flags.append(list(flags))


@dataclass
class ScriptedBrain:
    """Echoes what it was asked; can be made slow or unavailable."""

    mode: Mode = Mode.OFFLINE
    model: str = "scripted"
    delay: float = 0.0
    unavailable: bool = False
    seen_history: list[list[Turn]] = field(default_factory=list)

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        self.seen_history.append(list(history))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.unavailable:
            raise BrainUnavailable(f"{self.model} is down")
        return Reply(text=f"echo: {text}", mode=self.mode, model=self.model)
