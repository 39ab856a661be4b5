"""The browser protocol's decoder and encoders."""

from __future__ import annotations

import base64
import json

import pytest

from voice import protocol
from voice.audio_format import MAX_AUDIO_FRAME_BYTES
from voice.protocol import (
    AudioEnd,
    AudioInput,
    ErrorCode,
    Ping,
    PlaybackReport,
    ProtocolError,
    TextInput,
    decode_client_message,
)


def test_text_is_decoded_and_trimmed() -> None:
    assert decode_client_message('{"type":"text","content":"  hi  "}') == TextInput("hi")


def test_ping_and_audio_end_are_decoded() -> None:
    assert decode_client_message('{"type":"ping"}') == Ping()
    assert decode_client_message('{"type":"audio_end"}') == AudioEnd()


def test_a_playback_report_is_decoded() -> None:
    assert decode_client_message('{"type":"playback","played_samples":48000}') == PlaybackReport(48000)
    assert decode_client_message('{"type":"playback","played_samples":0}') == PlaybackReport(0)


@pytest.mark.parametrize("played", ["-1", "1.5", "true", '"12"', "null", str(2**60)])
def test_a_playback_report_needs_a_whole_count(played: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_client_message(f'{{"type":"playback","played_samples":{played}}}')
    assert raised.value.code is ErrorCode.INVALID_FIELD


def test_interrupted_carries_the_played_position_when_known() -> None:
    assert protocol.interrupted_message() == {"type": "interrupted"}
    assert protocol.interrupted_message(played_samples=7200) == {"type": "interrupted", "played_samples": 7200}


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_audio_base64_accepts_both_alphabets(encode) -> None:
    pcm = bytes(range(256)) * 4
    message = json.dumps({"type": "audio_base64", "content": encode(pcm).decode()})
    assert decode_client_message(message) == AudioInput(pcm)


def test_audio_base64_accepts_missing_padding() -> None:
    pcm = b"\x01\x02\x03\x04"
    assert decode_client_message(json.dumps({"type": "audio_base64", "content": "AQIDBA"})) == AudioInput(pcm)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", ErrorCode.INVALID_JSON),
        ("{", ErrorCode.INVALID_JSON),
        ("[" * 100000, ErrorCode.INVALID_JSON),
        ("null", ErrorCode.NOT_AN_OBJECT),
        ("3", ErrorCode.NOT_AN_OBJECT),
        ('{"type": 3}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "TEXT", "content": "hi"}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "text", "content": null}', ErrorCode.INVALID_FIELD),
        ('{"type": "audio_base64", "content": 1}', ErrorCode.INVALID_FIELD),
        ('{"type": "audio_base64", "content": "***"}', ErrorCode.INVALID_AUDIO),
        ('{"type": "audio_base64", "content": ""}', ErrorCode.INVALID_AUDIO),
        ('{"type": "audio_base64", "content": "AQID"}', ErrorCode.INVALID_AUDIO),
    ],
)
def test_bad_frames_raise_a_protocol_error_with_a_code(raw: str, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_client_message(raw)
    assert raised.value.code is code
    assert raised.value.message


def test_text_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_client_message('{"type":"text","content":"abcdef"}', max_text_chars=5)
    assert raised.value.code is ErrorCode.TEXT_TOO_LONG


def test_an_audio_frame_over_64_kib_is_refused() -> None:
    with pytest.raises(ProtocolError, match="limit"):
        protocol.validate_pcm_frame(b"\x00" * (MAX_AUDIO_FRAME_BYTES + 2))
    assert protocol.validate_pcm_frame(b"\x00" * MAX_AUDIO_FRAME_BYTES)


def test_server_messages_carry_their_type() -> None:
    assert protocol.response_message("hi") == {"type": "response", "content": "hi"}
    assert protocol.error_message(ErrorCode.INVALID_JSON, "bad") == {
        "type": "error",
        "code": "invalid_json",
        "message": "bad",
    }
    assert protocol.turn_complete_message(interrupted=True) == {"type": "turn_complete", "interrupted": True}
    assert protocol.status_message(protocol.StatusState.FALLBACK, "x")["state"] == "fallback"
    assert protocol.input_transcript_message("hi", final=False)["final"] is False


def test_the_spec_lists_every_close_code_of_the_design() -> None:
    # and 1003: a codec the service does not speak (docs/websocket-protocol.md, "Opus on the wire"); 1013: the worker
    # is overloaded (docs/websocket-protocol.md, "Back-pressure")
    codes = {1003, 1009, 1011, 1013, 4004, 4010, 4029, 4401, 4403}
    assert set(protocol.protocol_spec()["closeCodes"].values()) == codes


def test_the_overloaded_error_carries_a_retry_hint() -> None:
    assert protocol.overloaded_message(7) == {
        "type": "error",
        "code": "overloaded",
        "message": "The helper is very busy right now. Please try again in a moment.",
        "retry_after_seconds": 7,
    }


@pytest.mark.parametrize(
    ("escaped", "named"),
    [("\\ud800", "U+D800"), ("\\udfff", "U+DFFF"), ("\\u0000", "U+0000"), ("\\u001b", "U+001B"), ("\\u0085", "U+0085")],
)
def test_text_with_a_lone_surrogate_or_a_control_character_is_refused(escaped: str, named: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode_client_message('{"type": "text", "content": "open ' + escaped + ' the door"}')
    assert refused.value.code == ErrorCode.INVALID_FIELD
    assert named in refused.value.message


def test_tabs_line_breaks_and_emoji_are_text() -> None:
    said = "open\tthe\r\ndoor \U0001f511 please"
    assert decode_client_message(json.dumps({"type": "text", "content": said})) == TextInput(said)
