"""Matching what a child said to a level's authored hints by sentence-embedding similarity."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voice.context import Hint
from voice.speech.embeddings import SentenceEmbedder, shared_embedder


@dataclass(frozen=True)
class HintMatch:
    hint: Hint
    score: float


class HintIndex:
    """The embeddings of every hint's topic and example questions; a hint scores its best-matching phrase."""

    def __init__(self, embedder: SentenceEmbedder, hints: Sequence[Hint]) -> None:
        self._embedder = embedder
        self._hints = tuple(hints)
        phrases: list[str] = []
        owners: list[int] = []
        for number, hint in enumerate(self._hints):
            # The topic and the questions a child might ask are closer to a child's words than the answer is.
            for phrase in (hint.topic, *hint.examples):
                if phrase.strip():
                    phrases.append(phrase.strip())
                    owners.append(number)
        self._owners = np.array(owners, dtype=np.int64)
        self._vectors = embedder.encode(phrases)

    def rank(self, text: str) -> list[HintMatch]:
        """Every hint with its similarity to ``text``, best first."""
        if not self._hints or not len(self._owners):
            return []
        query = self._embedder.encode([text])[0]
        similarities = self._vectors @ query
        best = np.full(len(self._hints), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owners, similarities)
        order = np.argsort(-best, kind="stable")
        return [HintMatch(self._hints[i], float(best[i])) for i in order]


@functools.lru_cache(maxsize=256)
def hint_index(hints: tuple[Hint, ...]) -> HintIndex:
    """A cached index per set of hints, so a level's phrases are embedded once per process."""
    return HintIndex(shared_embedder(), hints)
