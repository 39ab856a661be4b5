"""A running emulator and a real SDK client pointed at it; audio helpers for spoken turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pytest
from google import genai
from google.genai import types

from gemini_emulator import GeminiLiveEmulator, ScriptedResponder

MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
FRAME_BYTES = 640


def sdk_client(
    emulator: GeminiLiveEmulator, *, api_key: str | None = None, api_version: str = "v1beta"
) -> genai.Client:
    return genai.Client(
        api_key=api_key or emulator.api_key,
        http_options=types.HttpOptions(
            base_url=emulator.base_url,
            api_version=api_version,
            async_client_args={"ssl": emulator.client_ssl_context()},
        ),
    )


def live_config(**overrides: Any) -> types.LiveConnectConfig:
    config: dict[str, Any] = {
        "response_modalities": [types.Modality.AUDIO],
        "input_audio_transcription": types.AudioTranscriptionConfig(),
        "output_audio_transcription": types.AudioTranscriptionConfig(),
        "session_resumption": types.SessionResumptionConfig(),
        "system_instruction": "You help children.",
    }
    config.update(overrides)
    return types.LiveConnectConfig(**config)


def voiced(seconds: float, frequency: float = 300.0) -> bytes:
    """A loud tone as 16 kHz PCM16: 'speech' to the emulator's energy VAD."""
    t = np.arange(int(seconds * 16000)) / 16000
    return (np.sin(2 * np.pi * frequency * t) * 8000).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


async def stream(session: Any, pcm: bytes, *, pace: float = 0.0) -> None:
    """Send PCM in 20 ms frames, as a microphone would (``pace`` seconds between frames)."""
    for start in range(0, len(pcm), FRAME_BYTES):
        await session.send_realtime_input(
            audio=types.Blob(data=pcm[start : start + FRAME_BYTES], mime_type="audio/pcm;rate=16000")
        )
        if pace:
            await asyncio.sleep(pace)


async def one_turn(session: Any, limit_seconds: float = 15.0) -> list[types.LiveServerMessage]:
    """Every message of one model turn, up to and including turnComplete."""

    async def collect() -> list[types.LiveServerMessage]:
        return [message async for message in session.receive()]

    return await asyncio.wait_for(collect(), limit_seconds)


def input_text(messages: Sequence[types.LiveServerMessage]) -> str:
    return "".join(
        m.server_content.input_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.input_transcription
    )


def output_text(messages: Sequence[types.LiveServerMessage]) -> str:
    return "".join(
        m.server_content.output_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.output_transcription
    )


def audio_blobs(messages: Sequence[types.LiveServerMessage]) -> list[types.Blob]:
    return [
        part.inline_data
        for m in messages
        if m.server_content and m.server_content.model_turn
        for part in m.server_content.model_turn.parts or []
        if part.inline_data is not None
    ]


def kinds(messages: Sequence[types.LiveServerMessage]) -> list[str]:
    """The server-content events of a turn, in order, with consecutive duplicates folded."""
    found: list[str] = []
    for message in messages:
        content = message.server_content
        if content is None:
            continue
        for name in (
            "input_transcription",
            "model_turn",
            "output_transcription",
            "interrupted",
            "generation_complete",
            "turn_complete",
        ):
            if getattr(content, name) and (not found or found[-1] != name):
                found.append(name)
    return found


@pytest.fixture
def responder() -> ScriptedResponder:
    return ScriptedResponder(rules=[("key", "Look under the blue rug.")])


@pytest.fixture
async def emulator(responder: ScriptedResponder) -> AsyncIterator[GeminiLiveEmulator]:
    async with GeminiLiveEmulator(responder=responder, realtime_factor=8.0, wait_for_playback=False) as running:
        yield running


@pytest.fixture
def client(emulator: GeminiLiveEmulator) -> genai.Client:
    return sdk_client(emulator)
