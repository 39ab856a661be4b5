"""The Live setup for the game-aware helper (get_hint, affective dialogue, proactive audio, API version), and tool
calls read from SDK messages."""

from __future__ import annotations

import pytest
from google.genai import types

from tests.voice.gemini.test_sdk_game_aware import CONTEXT
from voice.gemini.events import ToolCall, ToolCallCancelled
from voice.gemini.sdk import GeminiSettings, LiveSettings, events_of, live_config


def live_settings(*, affective_dialog: bool = False, proactive_audio: bool = False) -> LiveSettings:
    return LiveSettings(
        gemini=GeminiSettings(api_key="k"),
        models=("m",),
        affective_dialog=affective_dialog,
        proactive_audio=proactive_audio,
    )


@pytest.mark.parametrize(
    ("model", "behavior"),
    [
        ("gemini-2.5-flash-native-audio-preview-09-2025", types.Behavior.NON_BLOCKING),
        ("gemini-3.8-live", types.Behavior.NON_BLOCKING),
        ("gemini-3.1-flash-live-preview", None),
    ],
)
def test_get_hint_is_non_blocking_only_where_the_model_calls_functions_asynchronously(model, behavior) -> None:
    config = live_config(live_settings(), CONTEXT, model=model, handle="")
    assert config.tools is not None
    tool = config.tools[0]
    assert isinstance(tool, types.Tool)
    (declaration,) = tool.function_declarations or []
    assert declaration.name == "get_hint" and declaration.behavior == behavior
    assert "get_hint" in str(config.system_instruction)


def test_affective_and_proactive_are_off_by_default_and_the_version_is_kept() -> None:
    config = live_config(live_settings(), CONTEXT, model="gemini-2.5-flash-native-audio-latest", handle="")
    assert config.enable_affective_dialog is None and config.proactivity is None and config.http_options is None


@pytest.mark.parametrize(
    ("model", "affective", "proactive", "version"),
    [
        ("gemini-2.5-flash-native-audio-preview-09-2025", True, True, "v1alpha"),
        ("gemini-3.8-live", None, None, None),  # affective removed, proactive audio always on
        ("gemini-3.1-flash-live-preview", None, None, None),  # neither exists
    ],
)
def test_affective_and_proactive_go_only_to_models_that_take_them_on_v1alpha(model, affective, proactive, version):
    settings = live_settings(affective_dialog=True, proactive_audio=True)
    config = live_config(settings, CONTEXT, model=model, handle="")
    assert config.enable_affective_dialog is affective
    assert (config.proactivity.proactive_audio if config.proactivity else None) is proactive
    assert (config.http_options.api_version if config.http_options else None) == version


def test_tool_calls_and_cancellations_become_events() -> None:
    message = types.LiveServerMessage(
        tool_call=types.LiveServerToolCall(
            function_calls=[types.FunctionCall(id="c1", name="get_hint", args={"topic": "door"})]
        ),
        tool_call_cancellation=types.LiveServerToolCallCancellation(ids=["c0"]),
    )
    assert events_of(message) == [ToolCall("c1", "get_hint", {"topic": "door"}), ToolCallCancelled(("c0",))]
