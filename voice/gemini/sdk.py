"""Gemini through the google-genai SDK: the only module of audio-chat that imports ``google.genai``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import errors, types
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from voice.audio_format import INPUT_RATE_HZ, pcm_mime_type
from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, GameState, Mode, Picture, Reply, Speaker, Turn
from voice.game_state import as_context
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
    ToolCall,
    ToolCallCancelled,
    TurnComplete,
    UpstreamError,
    UpstreamRefused,
)
from voice.gemini.roster import ModelRoster
from voice.hint_tool import GET_HINT, GET_HINT_DESCRIPTION, GET_HINT_PARAMETERS
from voice.instructions import build_system_instruction

logger = logging.getLogger(__name__)

MAX_REPLY_TOKENS = 300
MAX_TOOL_ROUNDS = 2  # function calls answered per reply before the model must speak
TOOL_GUIDANCE = (
    "When the child is stuck, call get_hint to read the hint the game's authors wrote, then say it in your own "
    "words. Ask for the next, more specific step only when the child is still stuck."
)
PICTURE_GUIDANCE = "The child's game shared a screenshot of what they see now: use it to understand where they are."
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
        if not turn_text.strip() or speaker is Speaker.TOOL:
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
        instruction = build_system_instruction(context)
        if context.tools is not None:
            instruction += TOOL_GUIDANCE + "\n"
        config = types.GenerateContentConfig(
            system_instruction=instruction,
            max_output_tokens=MAX_REPLY_TOKENS,
            tools=[hint_tool(live=False)] if context.tools is not None else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        contents = history_to_contents(history, text)
        attach_to_question(contents, context.game_state, context.picture)
        # A client per call: the SDK's async HTTP client is bound to the event loop that first used it.
        async with self._settings.client().aio as client:
            for model in self._roster.usable():
                try:
                    response = await self._generate(client, model, contents, config, context)
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

    async def _generate(
        self,
        client: Any,
        model: str,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        context: ConversationContext,
    ) -> types.GenerateContentResponse:
        """One reply; the functions the model calls (at most ``MAX_TOOL_ROUNDS`` rounds) are answered and the
        model asked again with their results."""
        conversation = list(contents)
        for _ in range(MAX_TOOL_ROUNDS + 1):
            response: types.GenerateContentResponse = await asyncio.wait_for(
                client.models.generate_content(model=model, contents=conversation, config=config),
                timeout=self._settings.timeout_seconds,
            )
            calls = response.function_calls or []
            if not calls or context.tools is None or not response.candidates or not response.candidates[0].content:
                return response
            conversation.append(response.candidates[0].content)
            answers = []
            for call in calls:
                result = await context.tools(call.name or "", call.args or {})
                answers.append(types.Part.from_function_response(name=call.name or "", response=result))
            conversation.append(types.Content(role="user", parts=answers))
        return response


def attach_to_question(contents: list[types.Content], state: GameState | None, picture: Picture | None) -> None:
    """The game's newest state and a shared screenshot go with the child's question (the last user turn)."""
    if not contents or contents[-1].role != "user":
        contents.append(types.Content(role="user", parts=[]))
    parts = contents[-1].parts if contents[-1].parts is not None else []
    if state:
        parts.append(types.Part(text=as_context(state)))
    if picture is not None:
        parts.append(types.Part(text=PICTURE_GUIDANCE))
        parts.append(types.Part.from_bytes(data=picture.data, mime_type=picture.mime_type))
    contents[-1].parts = parts


def hint_tool(*, live: bool, non_blocking: bool = False) -> types.Tool:
    """``get_hint`` as the SDK declares it; a Live model that can call functions asynchronously gets it as
    NON_BLOCKING, so the conversation goes on while the hint is fetched."""
    declaration = types.FunctionDeclaration(
        name=GET_HINT,
        description=GET_HINT_DESCRIPTION,
        parameters_json_schema=GET_HINT_PARAMETERS,
        behavior=types.Behavior.NON_BLOCKING if live and non_blocking else None,
    )
    return types.Tool(function_declarations=[declaration])


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
    affective_dialog: bool = False  # emotion-aware replies, where the model offers them (v1alpha)
    proactive_audio: bool = False  # the model may stay silent when speech is not meant for it (v1alpha)
    hint_tool: bool = True  # declare get_hint

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


AFFECTIVE_API_VERSION = "v1alpha"  # affective dialogue and proactivity are only accepted on v1alpha


def is_native_audio_25(model: str) -> bool:
    return "gemini-2.5" in model and "native-audio" in model


def calls_functions_asynchronously(model: str) -> bool:
    """3.1 Flash Live calls functions synchronously only; 2.5 native audio and 3.8 Live take NON_BLOCKING ones."""
    return "gemini-3.1" not in model


def affective_dialog_for(settings: LiveSettings, model: str) -> bool | None:
    """Only 2.5 native audio has affective dialogue (3.1 never had it; 3.8 removed it from the API)."""
    return True if settings.affective_dialog and is_native_audio_25(model) else None


def proactivity_for(settings: LiveSettings, model: str) -> types.ProactivityConfig | None:
    """2.5 native audio takes it as a setting; 3.8 has it always on (and refuses a false); 3.1 lacks it."""
    if settings.proactive_audio and is_native_audio_25(model):
        return types.ProactivityConfig(proactive_audio=True)
    return None


def live_api_version(settings: LiveSettings, model: str) -> str:
    """The API version a session with this model and these settings needs."""
    if affective_dialog_for(settings, model) or proactivity_for(settings, model) is not None:
        return AFFECTIVE_API_VERSION
    return settings.gemini.api_version


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
    instruction = build_system_instruction(context)
    if settings.hint_tool:
        instruction += TOOL_GUIDANCE + "\n"
    version = live_api_version(settings, model)
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))
        ),
        system_instruction=instruction,
        tools=[hint_tool(live=True, non_blocking=calls_functions_asynchronously(model))]
        if settings.hint_tool
        else None,
        enable_affective_dialog=affective_dialog_for(settings, model),
        proactivity=proactivity_for(settings, model),
        http_options=types.HttpOptions(api_version=version) if version != settings.gemini.api_version else None,
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
    if message.tool_call is not None:
        for call in message.tool_call.function_calls or []:
            events.append(ToolCall(call_id=call.id or "", name=call.name or "", arguments=dict(call.args or {})))
    if message.tool_call_cancellation is not None and message.tool_call_cancellation.ids:
        events.append(ToolCallCancelled(tuple(message.tool_call_cancellation.ids)))
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
        # The audio send in progress: when it began, and the task that waits on it (see send_audio).
        self._audio_send_began: float | None = None
        self._audio_sender: asyncio.Task[Any] | None = None
        self._audio_send_expired = False

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
        """One frame up. Its time limit is kept by :meth:`expire_stalled_send`, which the connection calls at least
        every few hundred milliseconds: an ``asyncio.timeout`` per 20 ms frame cost a twentieth of the relay's CPU.

        Raises:
            UpstreamError: the send failed, or took longer than ``SEND_TIMEOUT_SECONDS``.
        """
        sender = self._audio_sender = asyncio.current_task()
        self._audio_send_began = time.monotonic()
        try:
            await self._session.send_realtime_input(audio=types.Blob(data=pcm, mime_type=INPUT_MIME_TYPE))
        except asyncio.CancelledError:
            if self._audio_send_expired and sender is not None and sender.uncancel() == 0:
                raise UpstreamError(1006, "sending audio timed out") from None
            raise
        except _SDK_FAILURES as error:
            raise _upstream_error(error) from error
        finally:
            self._audio_send_began = None

    def expire_stalled_send(self, now: float) -> bool:
        """Cancel an audio send that has waited longer than ``SEND_TIMEOUT_SECONDS`` (the upstream stopped taking
        input); it then raises ``UpstreamError``. True when it did."""
        began, sender = self._audio_send_began, self._audio_sender
        if began is None or sender is None or self._audio_send_expired or now - began <= SEND_TIMEOUT_SECONDS:
            return False
        self._audio_send_expired = True
        sender.cancel()
        return True

    async def send_audio_end(self) -> None:
        await self._send(self._session.send_realtime_input(audio_stream_end=True))

    async def send_text(self, text: str) -> None:
        if uses_history_config(self.model):
            await self._send(self._session.send_realtime_input(text=text))
        else:
            turn = types.Content(role="user", parts=[types.Part(text=text)])
            await self._send(self._session.send_client_content(turns=turn, turn_complete=True))

    async def send_image(self, picture: Picture) -> None:
        """A screenshot as realtime image input (a video frame): the next answer is given with it in view."""
        blob = types.Blob(data=picture.data, mime_type=picture.mime_type)
        await self._send(self._session.send_realtime_input(video=blob))

    async def send_context(self, text: str) -> None:
        """Context the model should know but not answer: a user turn that is not complete."""
        turn = types.Content(role="user", parts=[types.Part(text=text)])
        await self._send(self._session.send_client_content(turns=turn, turn_complete=False))

    async def send_tool_response(self, call_id: str, name: str, result: dict[str, Any]) -> None:
        """The answer to a function call; a NON_BLOCKING call's answer is spoken when the model is idle."""
        scheduling = types.FunctionResponseScheduling.WHEN_IDLE if calls_functions_asynchronously(self.model) else None
        response = types.FunctionResponse(id=call_id, name=name, response=result, scheduling=scheduling)
        await self._send(self._session.send_tool_response(function_responses=[response]))

    async def seed(self, history: Sequence[Turn]) -> None:
        """The stored conversation as context before realtime input flows; it asks for no reply."""
        turns = [
            types.Content(role="user" if t.speaker is Speaker.CHILD else "model", parts=[types.Part(text=t.text)])
            for t in history
            if t.text.strip() and t.speaker is not Speaker.TOOL
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
