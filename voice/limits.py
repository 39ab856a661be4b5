"""Per-connection limits: token buckets for frames and bytes, and the daily speaking budget's interface."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

TIME_FOR_A_BREAK = "We've talked a lot today! Let's take a break now and play together again tomorrow."


@dataclass(frozen=True)
class ConnectionLimits:
    frames_per_second: float = 100.0  # a microphone sends 25-50
    audio_bytes_per_second: float = 64_000.0  # twice real time for 16 kHz PCM16
    burst_seconds: float = 2.0
    flood_seconds: float = 5.0  # over the limits this long → close 4029
    calm_seconds: float = 1.0  # no frame dropped this long: the flood is over (the next one gets a new warning)
    max_text_frame_bytes: int = 256 * 1024  # base64 of a 64 KiB audio frame fits
    max_image_frame_bytes: int = 7 * 1024 * 1024  # an ``image`` message: base64 of a 5 MiB picture fits
    # Speaking time is counted in the shared store this often: a child may go over the budget by as much, and
    # each count is a cache round trip (Redis with several workers) that a frame waits for.
    billing_seconds: float = 10.0


class TokenBucket:
    """Allows ``rate`` per second on average, with bursts of ``rate * burst_seconds``."""

    def __init__(self, rate: float, burst_seconds: float) -> None:
        self.rate = rate
        self.capacity = rate * burst_seconds
        self._tokens = self.capacity
        self._at = time.monotonic()

    def take(self, amount: float = 1.0) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False


class SpeakingBudget(Protocol):
    """A session's daily speaking minutes, shared by all its connections (and workers)."""

    async def spend(self, seconds: float) -> bool:
        """Count ``seconds`` of the child's audio; False once today's budget is used up."""
        ...
