"""Gemini through the google-genai SDK: the only module of audio-chat that imports ``google.genai``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import errors, types
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from voice.audio_format import INPUT_RATE_HZ, pcm_mime_type
from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, Mode, Reply, Speaker, Turn
from voice.gemini.events import (
    AudioOut,
    GenerationComplete,
    GoAway,
    InputTranscript,
    Interrupted,
    LiveEvent,
    ModelUnavailable,
    OutputTranscript,
    ResumptionHandle,
    ResumptionRejected,
    TurnComplete,
    UpstreamError,
    UpstreamRefused,
)
from voice.gemini.roster import ModelRoster
from voice.instructions import build_system_instruction

logger = logging.getLogger(__name__)

MAX_REPLY_TOKENS = 300
# Phrases Google uses when a model id is wrong, retired or shut down.
_GONE_MARKERS = ("not found", "not supported", "no longer available", "has been shut down", "retired", "deprecated")


@dataclass(frozen=True)
class GeminiSettings:
    """How to reach Gemini; built from Django settings by the app, or by tests and tools directly."""

    api_key: str
    api_version: str = "v1beta"
    base_url: str = ""
    timeout_seconds: float = 20.0
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    def http_options(self) -> types.HttpOptions:
        options: dict[str, Any] = {"api_version": self.api_version, "timeout": int(self.timeout_seconds * 1000)}
        if self.base_url:
            options["base_url"] = self.base_url
        if self.ssl_context is not None:
            options["async_client_args"] = {"ssl": self.ssl_context}
        # Our own fallback chain handles failures; the SDK's retries would only delay a child's answer.
        options["retry_options"] = types.HttpRetryOptions(attempts=1)
        return types.HttpOptions(**options)

    def client(self) -> genai.Client:
        return genai.Client(api_key=self.api_key, http_options=self.http_options())


def is_model_gone(error: errors.APIError) -> bool:
    """Whether Gemini says the model does not exist (any more) rather than failing for another reason."""
    if error.code == 404 or error.status == "NOT_FOUND":
        return True
    message = (error.message or "").lower()
    return error.code in (400, 1008) and any(marker in message for marker in _GONE_MARKERS)


def history_to_contents(history: Sequence[Turn], text: str) -> list[types.Content]:
    """Stored turns as Gemini contents; consecutive turns of one speaker are merged, as roles must alternate."""
    contents: list[types.Content] = []
    for speaker, turn_text in [*((t.speaker, t.text) for t in history), (Speaker.CHILD, text)]:
        if not turn_text.strip():
            continue
        role = "user" if speaker is Speaker.CHILD else "model"
        if contents and contents[-1].role == role and contents[-1].parts:
            contents[-1].parts.append(types.Part(text=turn_text))
        else:
            contents.append(types.Content(role=role, parts=[types.Part(text=turn_text)]))
    return contents


class GeminiTextBrain:
    """A Gemini text model; tries the configured models in order and skips those that are gone."""

    def __init__(self, settings: GeminiSettings, roster: ModelRoster) -> None:
        self._settings = settings
        self._roster = roster

    @property
    def mode(self) -> Mode:
        return Mode.TEXT

    @property
    def model(self) -> str:
        return self._roster.current

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        config = types.GenerateContentConfig(
            system_instruction=build_system_instruction(context), max_output_tokens=MAX_REPLY_TOKENS
        )
        contents = history_to_contents(history, text)
        # A client per call: the SDK's async HTTP client is bound to the event loop that first used it.
        async with self._settings.client().aio as client:
            for model in self._roster.usable():
                try:
                    response = await asyncio.wait_for(
                        client.models.generate_content(model=model, contents=contents, config=config),
                        timeout=self._settings.timeout_seconds,
                    )
                except errors.APIError as error:
                    if is_model_gone(error):
                        self._roster.mark_gone(model)
                        continue
                    raise BrainUnavailable(f"Gemini {model} failed: {error.code} {error.status}") from error
                except TimeoutError:
                    raise BrainUnavailable(
                        f"Gemini {model} did not answer in {self._settings.timeout_seconds}s"
                    ) from None
                except Exception as error:  # network failures surface as several transport exception types
                    raise BrainUnavailable(f"Gemini {model} could not be reached: {type(error).__name__}") from error
                reply_text = (response.text or "").strip()
                if not reply_text:
                    raise BrainUnavailable(f"Gemini {model} returned an empty answer")
                return Reply(text=reply_text, mode=Mode.TEXT, model=model)
        raise BrainUnavailable("No configured Gemini text model is available: " + ", ".join(self._roster.models))


# --- Gemini Live ---------------------------------------------------------------------------------

INPUT_MIME_TYPE = pcm_mime_type(INPUT_RATE_HZ)
CONNECT_TIMEOUT_SECONDS = 15.0
CLOSE_TIMEOUT_SECONDS = 2.0
SEND_TIMEOUT_SECONDS = 5.0
# Gemini answers pings late (8-30 s have been seen): a ping timeout would close a healthy session with
# 1011 "keepalive ping timeout". Pings keep NAT mappings alive; the bridge's own timeouts catch dead peers.
KEEPALIVE = {"ping_interval": 20.0, "ping_timeout": None}
# PCM does not compress, so permessage-deflate would only cost CPU; frames may exceed the 1 MiB default.
WEBSOCKET_OPTIONS = {"compression": None, "max_size": 16 * 1024 * 1024, **KEEPALIVE}


@dataclass(frozen=True)
class LiveSettings:
    """How the bridge configures each Live session."""

    gemini: GeminiSettings
    models: tuple[str, ...]
    voice: str = "Charon"
    start_sensitivity: str = "START_SENSITIVITY_HIGH"
    end_sensitivity: str = "END_SENSITIVITY_HIGH"
    silence_duration_ms: int | None = None
    prefix_padding_ms: int | None = None

    def client(self) -> genai.Client:
        """One client for every Live session of this process: each client holds HTTP clients with their own TLS
        contexts (about 1 MiB), and a Live connection uses none of them, only the settings."""
        return _live_client(self, self.gemini.ssl_context)


@functools.cache
def _live_client(settings: LiveSettings, ssl_context: ssl.SSLContext | None) -> genai.Client:
    # The SSL context is part of the key: the settings compare without it, and another CA needs another client.
    options = settings.gemini.http_options()
    options.async_client_args = {**(options.async_client_args or {}), **WEBSOCKET_OPTIONS}
    return genai.Client(api_key=settings.gemini.api_key, http_options=options)


def uses_history_config(model: str) -> bool:
    """3.x Live models take seeded history only through historyConfig; 2.5 takes it as incomplete turns."""
    return "gemini-3" in model


def live_config(
    settings: LiveSettings, context: ConversationContext, *, model: str, handle: str
) -> types.LiveConnectConfig:
    detection = types.AutomaticActivityDetection(
        disabled=False,
        start_of_speech_sensitivity=types.StartSensitivity(settings.start_sensitivity),
        end_of_speech_sensitivity=types.EndSensitivity(settings.end_sensitivity),
        silence_duration_ms=settings.silence_duration_ms,
        prefix_padding_ms=settings.prefix_padding_ms,
    )
    voice = context.voice_name or settings.voice
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))
        ),
        system_instruction=build_system_instruction(context),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(handle=handle or None),
        context_window_compression=types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow()),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=detection,
            activity_handling=types.ActivityHandling.START_OF_ACTIVITY_INTERRUPTS,
        ),
        history_config=types.HistoryConfig(initial_history_in_client_content=True)
        if uses_history_config(model) and not handle
        else None,
    )


def _usage(metadata: types.UsageMetadata | None) -> dict[str, int]:
    if metadata is None:
        return {}
    usage: dict[str, int] = {}
    for direction, details in (
        ("prompt", metadata.prompt_tokens_details),
        ("response", metadata.response_tokens_details),
    ):
        for item in details or []:
            modality = str(item.modality.value if item.modality else "unknown").lower()
            key = f"{direction}_{modality}"
            usage[key] = usage.get(key, 0) + (item.token_count or 0)
    if not usage:
        usage["prompt_total"] = metadata.prompt_token_count or 0
        usage["response_total"] = metadata.response_token_count or 0
    return usage


def events_of(message: types.LiveServerMessage) -> list[LiveEvent]:
    """Every fact in one server message, in the order a client should act on them."""
    events: list[LiveEvent] = []
    content = message.server_content
    if content is not None:
        if content.interrupted:
            events.append(Interrupted())
        if content.input_transcription and content.input_transcription.text:
            events.append(InputTranscript(content.input_transcription.text))
        if content.model_turn:
            for part in content.model_turn.parts or []:
                if part.inline_data and part.inline_data.data and not part.thought:
                    events.append(AudioOut(part.inline_data.data))
        if content.output_transcription and content.output_transcription.text:
            events.append(OutputTranscript(content.output_transcription.text))
        if content.generation_complete:
            events.append(GenerationComplete())
        if content.turn_complete:
            events.append(TurnComplete(_usage(message.usage_metadata)))
    update = message.session_resumption_update
    if update is not None and update.resumable and update.new_handle:
        events.append(ResumptionHandle(update.new_handle))
    if message.go_away is not None:
        events.append(GoAway(_seconds(message.go_away.time_left)))
    return events


def _seconds(duration: str | None, default: float = 10.0) -> float:
    """A protobuf duration such as ``"50s"`` or ``"1.5s"``."""
    try:
        return float((duration or "").removesuffix("s"))
    except ValueError:
        return default


def _upstream_error(error: BaseException) -> UpstreamError:
    if isinstance(error, InvalidStatus):
        return UpstreamRefused(error.response.status_code, "the Live API refused the connection")
    if isinstance(error, errors.APIError):
        code = int(error.code or 1006)
        reason = str(error.message or error.details or "")
        if code in (1007, 1008) and any(marker in reason.lower() for marker in ("resumption", "handle")):
            return ResumptionRejected(code, reason)  # before the model check: "handle not found" is not a model
        if code == 1008 and any(marker in reason.lower() for marker in _GONE_MARKERS):
            return ModelUnavailable(code, reason)
        return UpstreamError(code, reason)
    if isinstance(error, TimeoutError):
        return UpstreamError(1006, "timed out")
    return UpstreamError(1006, f"{type(error).__name__}: {error}")


_SDK_FAILURES = (errors.APIError, WebSocketException, ConnectionClosed, OSError, TimeoutError, ValueError)


class LiveUpstream:
    """One open Live session: send audio and text, and read events. Closing is idempotent."""

    def __init__(self, session: Any, exit_stack: contextlib.AsyncExitStack, model: str) -> None:
        self._session = session
        self._stack = exit_stack
        self.model = model

    @classmethod
    async def open(
        cls, settings: LiveSettings, context: ConversationContext, *, model: str, handle: str = ""
    ) -> LiveUpstream:
        """Raises:
        ModelUnavailable, UpstreamRefused, ResumptionRejected, UpstreamError: the session could not be opened.
        """
        stack = contextlib.AsyncExitStack()
        client = settings.client()
        config = live_config(settings, context, model=model, handle=handle)
        try:
            session = await asyncio.wait_for(
                stack.enter_async_context(client.aio.live.connect(model=model, config=config)), CONNECT_TIMEOUT_SECONDS
            )
        except _SDK_FAILURES as error:
            await _close_quietly(stack)
            raise _upstream_error(error) from error
        return cls(session, stack, model)

    async def _send(self, coroutine: Any) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT_SECONDS):  # not wait_for: that costs a task for every frame
                await coroutine
        except _SDK_FAILURES as error:
            raise _upstream_error(error) from error

    async def send_audio(self, pcm: bytes) -> None:
        await self._send(self._session.send_realtime_input(audio=types.Blob(data=pcm, mime_type=INPUT_MIME_TYPE)))

    async def send_audio_end(self) -> None:
        await self._send(self._session.send_realtime_input(audio_stream_end=True))

    async def send_text(self, text: str) -> None:
        if uses_history_config(self.model):
            await self._send(self._session.send_realtime_input(text=text))
        else:
            turn = types.Content(role="user", parts=[types.Part(text=text)])
            await self._send(self._session.send_client_content(turns=turn, turn_complete=True))

    async def seed(self, history: Sequence[Turn]) -> None:
        """The stored conversation as context before realtime input flows; it asks for no reply."""
        turns = [
            types.Content(role="user" if t.speaker is Speaker.CHILD else "model", parts=[types.Part(text=t.text)])
            for t in history
            if t.text.strip()
        ]
        if uses_history_config(self.model):
            await self._send(self._session.send_client_content(turns=turns, turn_complete=True))
        elif turns:
            await self._send(self._session.send_client_content(turns=turns, turn_complete=False))

    async def events(self) -> AsyncIterator[LiveEvent]:
        """Events until the connection ends; ``receive()`` stops at every turn, so it is called again.

        Raises:
            UpstreamError: the connection failed or closed.
        """
        while True:
            try:
                async for message in self._session.receive():
                    for event in events_of(message):
                        yield event
            except _SDK_FAILURES as error:
                raise _upstream_error(error) from error

    async def close(self) -> None:
        await _close_quietly(self._stack)


async def _close_quietly(stack: contextlib.AsyncExitStack) -> None:
    with contextlib.suppress(*_SDK_FAILURES):
        await asyncio.wait_for(stack.aclose(), CLOSE_TIMEOUT_SECONDS)
