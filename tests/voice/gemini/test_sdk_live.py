"""The Live adapter: the setup it sends, and how server messages become events."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

import pytest
from google.genai import errors, types

from voice.context import ConversationContext, LevelContext
from voice.gemini.events import (
    AudioOut,
    GoAway,
    InputTranscript,
    Interrupted,
    ModelUnavailable,
    OutputTranscript,
    ResumptionHandle,
    ResumptionRejected,
    TurnComplete,
    UpstreamError,
)
from voice.gemini.sdk import (
    SEND_TIMEOUT_SECONDS,
    GeminiSettings,
    LiveSettings,
    LiveUpstream,
    _upstream_error,
    events_of,
    live_config,
    uses_history_config,
)

CONTEXT = ConversationContext("s", 6, LevelContext("L", "A level."), voice_name="")
SETTINGS = LiveSettings(gemini=GeminiSettings(api_key="k"), models=("gemini-3.8-live",))


def test_the_setup_asks_for_audio_transcripts_resumption_and_compression() -> None:
    config = live_config(SETTINGS, CONTEXT, model="gemini-2.5-flash-native-audio-preview-09-2025", handle="")
    assert config.response_modalities == [types.Modality.AUDIO]
    assert config.input_audio_transcription is not None and config.output_audio_transcription is not None
    assert config.session_resumption is not None and config.session_resumption.handle is None
    assert config.context_window_compression is not None
    assert config.history_config is None, "2.5 models take history as incomplete turns"
    voice = config.speech_config.voice_config.prebuilt_voice_config.voice_name  # type: ignore[union-attr]
    assert voice == "Charon"


def test_a_sessions_own_voice_wins_and_3x_models_seed_with_history_config() -> None:
    context = ConversationContext("s", 6, LevelContext("L", "A level."), voice_name="Kore")
    config = live_config(SETTINGS, context, model="gemini-3.8-live", handle="")
    assert config.speech_config.voice_config.prebuilt_voice_config.voice_name == "Kore"  # type: ignore[union-attr]
    assert config.history_config is not None and config.history_config.initial_history_in_client_content
    assert uses_history_config("gemini-3.1-flash-live-preview") and not uses_history_config(
        "gemini-2.5-flash-native-audio-latest"
    )


def test_a_resumed_session_carries_its_handle_and_no_history_config() -> None:
    config = live_config(SETTINGS, CONTEXT, model="gemini-3.8-live", handle="h1")
    assert config.session_resumption is not None and config.session_resumption.handle == "h1"
    assert config.history_config is None


def test_the_live_client_keeps_pings_but_never_times_out_on_them() -> None:
    client = LiveSettings(
        gemini=GeminiSettings(api_key="k", ssl_context=ssl.create_default_context()), models=("m",)
    ).client()
    args = client._api_client._http_options.async_client_args or {}
    assert args["ping_timeout"] is None and args["compression"] is None and "ssl" in args


def test_server_messages_become_events_in_order() -> None:
    message = types.LiveServerMessage.model_validate(
        {
            "server_content": {
                "interrupted": True,
                "input_transcription": {"text": "hi"},
                "model_turn": {
                    "parts": [
                        {"inline_data": {"data": b"\x01\x00", "mime_type": "audio/pcm;rate=24000"}},
                        {"text": "thinking", "thought": True},
                    ]
                },
                "output_transcription": {"text": "hello"},
                "turn_complete": True,
            },
            "usage_metadata": {"response_tokens_details": [{"modality": "AUDIO", "token_count": 7}]},
            "session_resumption_update": {"new_handle": "h2", "resumable": True},
            "go_away": {"time_left": "1.5s"},
        }
    )
    assert events_of(message) == [
        Interrupted(),
        InputTranscript("hi"),
        AudioOut(b"\x01\x00"),
        OutputTranscript("hello"),
        TurnComplete({"response_audio": 7}),
        ResumptionHandle("h2"),
        GoAway(1.5),
    ]


def test_a_handle_that_is_not_resumable_is_ignored() -> None:
    message = types.LiveServerMessage.model_validate({"session_resumption_update": {"resumable": False}})
    assert events_of(message) == []


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        (1007, "Invalid session resumption handle.", ResumptionRejected),
        (1008, "Session resumption handle not found.", ResumptionRejected),  # not a retired model
        (1008, "models/x is not found for API version v1beta", ModelUnavailable),
        (1011, "Internal error encountered.", UpstreamError),
    ],
)
def test_close_codes_become_the_upstream_errors_the_bridge_acts_on(code: int, reason: str, kind: type) -> None:
    error = _upstream_error(errors.APIError(code, {"error": {"message": reason}}))
    assert type(error) is kind
    assert error.code == code


class StuckSession:
    """A Live session whose sends never finish: the peer stopped reading."""

    def __init__(self) -> None:
        self.sends = 0

    async def send_realtime_input(self, **_: object) -> None:
        self.sends += 1
        await asyncio.Event().wait()


async def test_an_audio_send_stuck_past_its_time_limit_raises_an_upstream_error() -> None:
    upstream = LiveUpstream(StuckSession(), contextlib.AsyncExitStack(), "model")
    sending = asyncio.create_task(upstream.send_audio(b"\x00\x00" * 320))
    await asyncio.sleep(0.01)
    began = time.monotonic()
    assert not upstream.expire_stalled_send(began + SEND_TIMEOUT_SECONDS / 2), "still within its time"
    assert not sending.done()
    assert upstream.expire_stalled_send(began + SEND_TIMEOUT_SECONDS + 0.1)
    with pytest.raises(UpstreamError, match="timed out"):
        await asyncio.wait_for(sending, 1)


async def test_a_send_cancelled_by_its_owner_stays_cancelled() -> None:
    upstream = LiveUpstream(StuckSession(), contextlib.AsyncExitStack(), "model")
    sending = asyncio.create_task(upstream.send_audio(b"\x00\x00" * 320))
    await asyncio.sleep(0.01)
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert not upstream.expire_stalled_send(time.monotonic() + SEND_TIMEOUT_SECONDS + 1), "nothing is sending"
