"""Builds the helper's brain from settings: Gemini when a key is set, the offline hint brain otherwise."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from voice.conversation import Mode
from voice.providers.base import TextBrain
from voice.providers.chain import FallbackBrain
from voice.providers.gemini import GeminiSettings, GeminiTextBrain
from voice.providers.offline import OfflineHintBrain

BRAIN_MODES = ("auto", "text", "offline")


def active_mode() -> Mode:
    """The mode new conversations start in."""
    mode = settings.BRAIN_MODE
    if mode not in BRAIN_MODES:
        raise ImproperlyConfigured(f"BRAIN_MODE must be one of {', '.join(BRAIN_MODES)}, not {mode!r}.")
    if mode == "offline" or not settings.GEMINI_API_KEY:
        return Mode.OFFLINE
    return Mode.TEXT


def gemini_settings() -> GeminiSettings:
    return GeminiSettings(
        api_key=settings.GEMINI_API_KEY,
        api_version=settings.GEMINI_API_VERSION,
        base_url=settings.GEMINI_BASE_URL,
        timeout_seconds=settings.GEMINI_TIMEOUT_SECONDS,
    )


@functools.cache
def offline_brain() -> OfflineHintBrain:
    return OfflineHintBrain(similarity_floor=settings.HINT_SIMILARITY_FLOOR)


@functools.cache
def text_brain() -> TextBrain:
    """The process-wide brain for typed turns; the offline brain answers whenever Gemini cannot."""
    if active_mode() is Mode.OFFLINE:
        return offline_brain()
    return FallbackBrain([GeminiTextBrain(gemini_settings(), settings.TEXT_MODELS), offline_brain()])


def reset() -> None:
    """Forget the built brains (tests change settings between cases)."""
    text_brain.cache_clear()
    offline_brain.cache_clear()
