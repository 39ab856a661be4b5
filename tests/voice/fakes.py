"""In-memory stand-ins for the realtime core's collaborators."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, GameState, Mode, Picture, Reply, Speaker, Turn
from voice.engines.base import Handover


@dataclass
class MemoryStore:
    turns: list[tuple[Speaker, str, Mode | None, str, bool, bool]] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)
    tool_turns: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    game_states: list[dict[str, Any]] = field(default_factory=list)

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
    ) -> int:
        self.turns.append((speaker, text, mode, model, spoken, interrupted))
        self.flags.append(list(flags))
        return len(self.turns)

    async def add_tool_turn(self, name: str, arguments: Mapping[str, Any], result: Mapping[str, Any]) -> int:
        self.tool_turns.append((name, dict(arguments), dict(result)))
        return len(self.turns) + len(self.tool_turns)

    async def save_game_state(self, state: Mapping[str, Any]) -> None:
        self.game_states.append(dict(state))


@dataclass
class ScriptedBrain:
    """Echoes what it was asked; can be made slow or unavailable."""

    mode: Mode = Mode.OFFLINE
    model: str = "scripted"
    delay: float = 0.0
    unavailable: bool = False
    seen_history: list[list[Turn]] = field(default_factory=list)
    seen_contexts: list[ConversationContext] = field(default_factory=list)

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        self.seen_history.append(list(history))
        self.seen_contexts.append(context)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.unavailable:
            raise BrainUnavailable(f"{self.model} is down")
        return Reply(text=f"echo: {text}", mode=self.mode, model=self.model)


class RecordingEngine:
    """An engine that records what reaches it; ``run`` waits until cancelled, or raises ``fail_with``."""

    mode = Mode.OFFLINE
    model = "recording"

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.running = asyncio.Event()
        self.fail_with = fail_with

    async def run(self) -> None:
        self.calls.append(("run", None))
        self.running.set()
        if self.fail_with is not None:
            raise self.fail_with
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.calls.append(("cancelled", None))
            raise

    async def close(self) -> None:
        self.calls.append(("close", None))

    async def take_over(self, handover: Handover) -> None:
        self.calls.append(("take_over", handover))

    async def text(self, content: str) -> None:
        self.calls.append(("text", content))

    async def audio(self, pcm: bytes) -> None:
        self.calls.append(("audio", pcm))

    async def audio_end(self) -> None:
        self.calls.append(("audio_end", None))

    async def playback(self, played_samples: int) -> None:
        self.calls.append(("playback", played_samples))

    async def image(self, picture: Picture) -> None:
        self.calls.append(("image", picture))

    async def game_state(self, state: GameState) -> None:
        self.calls.append(("game_state", state))
