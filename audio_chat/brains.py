"""Builds the helper's brain from settings: Gemini when a key is set, the offline hint brain otherwise."""

from __future__ import annotations

import functools
import ssl

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from voice.brains.base import TextBrain
from voice.brains.chain import FallbackBrain
from voice.brains.offline import OfflineHintBrain
from voice.context import Mode
from voice.gemini.roster import ModelRoster
from voice.gemini.sdk import GeminiSettings, GeminiTextBrain, LiveSettings

BRAIN_MODES = ("auto", "live", "text", "offline")


def active_mode() -> Mode:
    """The mode new conversations start in: Live when a key is set (``auto``), else offline."""
    mode = settings.BRAIN_MODE
    if mode not in BRAIN_MODES:
        raise ImproperlyConfigured(f"BRAIN_MODE must be one of {', '.join(BRAIN_MODES)}, not {mode!r}.")
    if mode == "offline" or not settings.GEMINI_API_KEY:
        return Mode.OFFLINE
    return Mode.TEXT if mode == "text" else Mode.LIVE


@functools.cache
def _trusting(ca_file: str) -> ssl.SSLContext:
    """One context per CA file, so that every connection shares one Gemini client (read once: restart to change)."""
    return ssl.create_default_context(cafile=ca_file)


def gemini_settings() -> GeminiSettings:
    context = _trusting(settings.GEMINI_CA_FILE) if settings.GEMINI_CA_FILE else None
    return GeminiSettings(
        api_key=settings.GEMINI_API_KEY,
        api_version=settings.GEMINI_API_VERSION,
        base_url=settings.GEMINI_BASE_URL,
        timeout_seconds=settings.GEMINI_TIMEOUT_SECONDS,
        ssl_context=context,
    )


def live_settings() -> LiveSettings:
    return LiveSettings(
        gemini=gemini_settings(),
        models=tuple(settings.LIVE_MODELS),
        voice=settings.GEMINI_VOICE,
        start_sensitivity=settings.LIVE_START_SENSITIVITY,
        end_sensitivity=settings.LIVE_END_SENSITIVITY,
        silence_duration_ms=settings.LIVE_SILENCE_DURATION_MS,
        affective_dialog=settings.LIVE_AFFECTIVE_DIALOG,
        proactive_audio=settings.LIVE_PROACTIVE_AUDIO,
    )


@functools.cache
def text_roster() -> ModelRoster:
    """The text models of this process, in order; one found gone is skipped by every later request."""
    return ModelRoster(settings.TEXT_MODELS, "text")


@functools.cache
def live_roster() -> ModelRoster:
    """The Live models of this process, shared by every connection, so a retired model is tried only once."""
    return ModelRoster(settings.LIVE_MODELS, "Live")


@functools.cache
def offline_brain() -> OfflineHintBrain:
    return OfflineHintBrain(similarity_floor=settings.HINT_SIMILARITY_FLOOR)


@functools.cache
def text_brain() -> TextBrain:
    """The process-wide text brain (typed turns, and text mode); the offline brain answers when Gemini cannot."""
    if active_mode() is Mode.OFFLINE:
        return offline_brain()
    return FallbackBrain([GeminiTextBrain(gemini_settings(), text_roster()), offline_brain()])


def reset() -> None:
    """Forget the built brains (tests change settings between cases)."""
    text_brain.cache_clear()
    offline_brain.cache_clear()
    text_roster.cache_clear()
    live_roster.cache_clear()
