"""The configured Gemini models, in order of preference, minus those Google said are gone (retired, not found)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)


class ModelRoster:
    """Models to try in order; a model found gone is skipped by every later call in this process."""

    def __init__(self, models: Sequence[str], kind: str) -> None:
        if not models:
            raise ValueError(f"No {kind} model is configured.")
        self.models = tuple(models)
        self.kind = kind
        self._gone: set[str] = set()

    def usable(self) -> list[str]:
        return [model for model in self.models if model not in self._gone]

    @property
    def current(self) -> str:
        """The model that would be tried first (the last configured one once every model is gone)."""
        usable = self.usable()
        return usable[0] if usable else self.models[-1]

    @property
    def gone(self) -> frozenset[str]:
        return frozenset(self._gone)

    def mark_gone(self, model: str) -> None:
        if model not in self._gone:
            logger.warning("Gemini %s model %s is not available; it is skipped from now on", self.kind, model)
            self._gone.add(model)
