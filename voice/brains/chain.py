"""A brain that asks several brains in order and answers with the first one that can."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from voice.brains.base import BrainError, BrainUnavailable, TextBrain
from voice.context import ConversationContext, Mode, Reply, Turn

logger = logging.getLogger(__name__)


class FallbackBrain:
    """Tries each brain in turn; a child always gets an answer as long as the last brain can give one."""

    def __init__(self, brains: Sequence[TextBrain]) -> None:
        if not brains:
            raise ValueError("FallbackBrain needs at least one brain.")
        self._brains = tuple(brains)

    @property
    def mode(self) -> Mode:
        return self._brains[0].mode

    @property
    def model(self) -> str:
        return self._brains[0].model

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        failures: list[str] = []
        for brain in self._brains:
            try:
                return await brain.reply(context, history, text)
            except BrainError as error:
                logger.warning("%s brain could not answer (%s); trying the next one", brain.mode, str(error))
                failures.append(f"{brain.mode}: {error}")
        raise BrainUnavailable("; ".join(failures))
