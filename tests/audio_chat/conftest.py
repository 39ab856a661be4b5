"""The live tests' Gemini Live emulator, configured as the service's upstream; each module brings its responder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from django.test import override_settings

from audio_chat import realtime
from gemini_emulator import GeminiLiveEmulator, ScriptedResponder

MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"


@pytest.fixture
async def emulator(responder: ScriptedResponder) -> AsyncIterator[GeminiLiveEmulator]:
    async with GeminiLiveEmulator(responder=responder, realtime_factor=8.0, wait_for_playback=False) as running:
        with override_settings(
            GEMINI_API_KEY=running.api_key,
            GEMINI_BASE_URL=running.base_url,
            GEMINI_CA_FILE=str(running.ca_file),
            LIVE_MODELS=[MODEL],
            TEXT_MODELS=["gemini-3.5-flash"],
            GEMINI_TIMEOUT_SECONDS=2.0,
            LIVE_STALL_SECONDS=3.0,
        ):
            realtime.reset()
            yield running
            realtime.reset()
