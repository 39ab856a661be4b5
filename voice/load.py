"""This worker's load: how late its event loop runs and how many children it holds, and whether it is overloaded.

A worker that takes one child too many makes every child's audio fall behind. The monitor decides, from two
signals that cost nothing per audio frame, whether a new connection should be refused (close 1013) and whether
the health check should turn a load balancer away:

- **event-loop lag**: a task asks to wake every ``tick_seconds`` and measures how late it woke. The 95th
  percentile of those wakes over the last ``window_seconds`` above ``lag_limit_seconds`` means overloaded (a
  saturated worker wakes late every time; one garbage collection or slow write now and then is not overload); it
  must fall below ``lag_recovered_seconds`` to count as recovered. A limit of 0 measures without ever refusing.
- **live connections**, against an optional cap: at the cap means overloaded; recovered below ``cap - margin``.

Both thresholds have a gap between "overloaded" and "recovered" (hysteresis), so the state does not flap.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


class OverloadReason(enum.StrEnum):
    EVENT_LOOP_LAG = "event_loop_lag"
    CONNECTION_CAP = "connection_cap"


@dataclass(frozen=True)
class LoadSettings:
    lag_limit_seconds: float = 0.05
    lag_recovered_seconds: float = 0.025
    window_seconds: float = 2.0
    tick_seconds: float = 0.1  # each wake of an idle worker costs ~0.25 ms of CPU here: 10 a second is plenty
    max_connections: int = 0  # 0: no cap
    retry_after_seconds: int = 5  # the hint a refused client gets

    def __post_init__(self) -> None:
        if self.lag_limit_seconds and not 0 < self.lag_recovered_seconds <= self.lag_limit_seconds:
            raise ValueError("The recovered lag must be positive and no more than the lag limit.")
        if self.tick_seconds <= 0 or self.window_seconds < self.tick_seconds:
            raise ValueError("The tick must be positive and the window at least one tick long.")
        if self.max_connections < 0:
            raise ValueError("The connection cap must be 0 (none) or more.")

    @property
    def cap_margin(self) -> int:
        """Connections to give back below the cap before new ones are admitted again: 5 %, at least one."""
        return max(1, self.max_connections // 20)


@dataclass(frozen=True)
class LoadReport:
    """A snapshot of one worker's load, as the health check and the cache carry it."""

    overloaded: bool
    reasons: tuple[OverloadReason, ...]
    lag_p95_ms: float | None  # None until the monitor has measured (it runs under the server's lifespan)
    connections: int
    max_connections: int  # 0: no cap

    def as_dict(self) -> dict[str, object]:
        return {
            "overloaded": self.overloaded,
            "reasons": [reason.value for reason in self.reasons],
            "event_loop_lag_p95_ms": self.lag_p95_ms,
            "connections": self.connections,
            "max_connections": self.max_connections,
        }


class LoadMonitor:
    """One per worker process. ``run()`` measures the loop's lag for as long as it runs (the server's lifespan owns
    it); ``admits()``, ``connection_opened()`` and ``connection_closed()`` are what a new connection costs."""

    def __init__(self, settings: LoadSettings | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or LoadSettings()
        self._clock = clock
        self._samples: collections.deque[tuple[float, float]] = collections.deque()  # (woke at, lag)
        self._lag_p95: float | None = None
        self._lagging = False
        self._at_cap = False
        self.connections = 0

    @property
    def overloaded(self) -> bool:
        return self._lagging or self._at_cap

    def admits(self) -> bool:
        """Whether a new connection may be taken now."""
        return not self.overloaded

    def connection_opened(self) -> None:
        self.connections += 1
        cap = self.settings.max_connections
        if cap and self.connections >= cap:
            self._at_cap = True

    def connection_closed(self) -> None:
        self.connections = max(0, self.connections - 1)
        cap = self.settings.max_connections
        if self._at_cap and self.connections <= cap - self.settings.cap_margin:
            self._at_cap = False

    def record(self, lag: float, now: float) -> None:
        """One wake of the loop ``lag`` seconds late, at ``now``; updates the state."""
        self._samples.append((now, lag))
        horizon = now - self.settings.window_seconds
        while self._samples[0][0] < horizon:
            self._samples.popleft()
        lags = sorted(lag for _, lag in self._samples)
        self._lag_p95 = lags[math.ceil(0.95 * len(lags)) - 1]
        if not self.settings.lag_limit_seconds:
            return
        if self._lag_p95 > self.settings.lag_limit_seconds:
            self._lagging = True
        elif self._lag_p95 < self.settings.lag_recovered_seconds:
            self._lagging = False

    async def run(self) -> None:
        """Measure until cancelled: one short sleep per tick, nothing per connection or frame."""
        tick = self.settings.tick_seconds
        while True:
            asked = self._clock()
            await asyncio.sleep(tick)
            woke = self._clock()
            self.record(max(0.0, woke - asked - tick), woke)

    def report(self) -> LoadReport:
        reasons = (
            *((OverloadReason.EVENT_LOOP_LAG,) if self._lagging else ()),
            *((OverloadReason.CONNECTION_CAP,) if self._at_cap else ()),
        )
        lag_ms = None if self._lag_p95 is None else round(self._lag_p95 * 1000, 1)
        return LoadReport(
            overloaded=self.overloaded,
            reasons=reasons,
            lag_p95_ms=lag_ms,
            connections=self.connections,
            max_connections=self.settings.max_connections,
        )
