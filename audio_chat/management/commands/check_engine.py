"""Checks that the offline engine's models load, and says what to install when they do not."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from voice.engine.embeddings import EngineModelMissing, shared_embedder


class Command(BaseCommand):
    help = "Load the offline engine's models once and report; fails with an install hint when one is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            shared_embedder().encode(["hello"])
        except EngineModelMissing as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(f"Offline engine ready: sentence embeddings loaded in {time.perf_counter() - started:.2f} s.")
