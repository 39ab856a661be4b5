"""Faults the emulator injects per connection, chosen explicitly or drawn from a seeded schedule."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong on one connection. Every field is off by default.

    Turn numbers count the replies of this connection from 1.
    """

    reject_status: int | None = None  # an HTTP status at the upgrade, e.g. 429
    setup_delay: float = 0.0  # seconds before setupComplete
    close_1011_at_turn: int | None = None  # close 1011 in the middle of this reply …
    close_1011_after_chunks: int = 2  # … after this many of its audio chunks
    go_away_after: float | None = None  # seconds after setup: send goAway{timeLeft} …
    go_away_time_left: float = 1.0  # … then close once timeLeft has passed
    lifetime: float | None = None  # overrides the emulator's connection lifetime
    stall_at_turn: int | None = None  # from this reply on, send nothing at all (the socket stays open)
    malformed_frame_at_turn: int | None = None  # send a frame that is not JSON instead of this reply
    realtime_factor: float | None = None  # this connection's reply pace (1.0: real time); else the emulator's

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v != getattr(NO_FAULTS, k)})

    @classmethod
    def from_json(cls, text: str) -> FaultPlan:
        """Raises:
        ValueError: not a JSON object of FaultPlan fields.
        """
        data: Any = json.loads(text)
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - names:
            raise ValueError(f"a fault plan is a JSON object with keys from: {', '.join(sorted(names))}")
        return cls(**data)


NO_FAULTS = FaultPlan()


@dataclass
class FaultSchedule:
    """Draws a fault plan for each new connection from a seeded generator, so a soak run can be replayed.

    Each probability is per connection; at most one fault is chosen for a connection.
    """

    seed: int = 0
    close_1011: float = 0.0
    go_away: float = 0.0
    stall: float = 0.0
    max_turn: int = 3

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 (reproducible test faults, not security)

    def next_plan(self) -> FaultPlan:
        draw = self._random.random()
        turn = self._random.randint(1, self.max_turn)
        if draw < self.close_1011:
            return FaultPlan(close_1011_at_turn=turn, close_1011_after_chunks=self._random.randint(0, 3))
        draw -= self.close_1011
        if draw < self.go_away:
            return FaultPlan(go_away_after=round(self._random.uniform(0.5, 3.0), 2), go_away_time_left=1.0)
        draw -= self.go_away
        if draw < self.stall:
            return FaultPlan(stall_at_turn=turn)
        return NO_FAULTS
