"""The interface every text brain implements, and the errors a brain may raise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from voice.context import ConversationContext, Mode, Reply, Turn


class BrainError(Exception):
    """A brain could not answer; the caller may try another one."""


class BrainUnavailable(BrainError):
    """The brain cannot be reached or has no usable model right now."""


class TextBrain(Protocol):
    """Answers a child's message given the conversation so far."""

    @property
    def mode(self) -> Mode: ...

    @property
    def model(self) -> str:
        """The model that would answer next (shown to clients in the ``connection`` message)."""
        ...

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        """Answer ``text``; ``history`` is the stored conversation before it, oldest first.

        Raises:
            BrainError: this brain cannot answer now.
        """
        ...
