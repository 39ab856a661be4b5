"""What a Live upstream tells the bridge, as plain facts; no SDK types leave the Gemini module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AudioOut:
    pcm: bytes  # 24 kHz PCM16 mono


@dataclass(frozen=True)
class InputTranscript:
    text: str


@dataclass(frozen=True)
class OutputTranscript:
    text: str


@dataclass(frozen=True)
class Interrupted:
    pass


@dataclass(frozen=True)
class GenerationComplete:
    pass


@dataclass(frozen=True)
class TurnComplete:
    usage: dict[str, int] = field(default_factory=dict)  # token counts by modality, e.g. {"prompt_audio": 120}


@dataclass(frozen=True)
class GoAway:
    seconds_left: float


@dataclass(frozen=True)
class ResumptionHandle:
    handle: str


@dataclass(frozen=True)
class ToolCall:
    """The model calls a function; the answer goes back with the same ``call_id``."""

    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolCallCancelled:
    """Calls the model no longer wants answered (the child spoke over it)."""

    call_ids: tuple[str, ...]


LiveEvent = (
    AudioOut
    | InputTranscript
    | OutputTranscript
    | Interrupted
    | GenerationComplete
    | TurnComplete
    | GoAway
    | ResumptionHandle
    | ToolCall
    | ToolCallCancelled
)


class UpstreamError(Exception):
    """The Live connection failed or closed; ``code`` is the WebSocket close code (or HTTP status)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class ModelUnavailable(UpstreamError):
    """Close 1008: the model is not found or not supported; try the next one."""


class UpstreamRefused(UpstreamError):
    """The upgrade was refused (429 quota, 401 key, …): Live cannot be had right now."""


class ResumptionRejected(UpstreamError):
    """The resumption handle was not accepted; start a fresh session instead."""
