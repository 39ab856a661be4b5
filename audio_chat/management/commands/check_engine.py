"""Checks that the offline engine's parts load, and says what to install when one does not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from voice.speech.embeddings import EngineModelMissing, shared_embedder
from voice.speech.stt import shared_decoder_pool, transcribe
from voice.speech.tts import SpeechUnavailable, load_voice


class Command(BaseCommand):
    help = "Load the offline engine's models once and report; fails with an install hint when one is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            shared_embedder().encode(["hello"])
        except EngineModelMissing as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(f"Hint matching ready ({time.perf_counter() - started:.2f} s).")
        started = time.perf_counter()
        asyncio.run(transcribe(shared_decoder_pool(1), bytes(3200)))
        self.stdout.write(f"Speech recognition ready ({time.perf_counter() - started:.2f} s).")
        started = time.perf_counter()
        try:
            voice = load_voice(settings.OFFLINE_VOICE, settings.SPEAKING_RATE)
        except SpeechUnavailable as missing:
            # The service still runs: the helper hears, and answers in text.
            self.stderr.write(self.style.WARNING(f"Speech output is off: {missing}"))
            return
        self.stdout.write(f"Speech output ready: {voice.name} ({time.perf_counter() - started:.2f} s).")
        self.stdout.write("Offline engine ready.")
