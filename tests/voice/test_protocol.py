"""The browser protocol's decoder and encoders."""

from __future__ import annotations

import base64
import json

import pytest

from voice import protocol
from voice.audio_format import MAX_AUDIO_FRAME_BYTES
from voice.protocol import AudioEnd, AudioInput, ErrorCode, Ping, ProtocolError, TextInput, decode_client_message


def test_text_is_decoded_and_trimmed() -> None:
    assert decode_client_message('{"type":"text","content":"  hi  "}') == TextInput("hi")


def test_ping_and_audio_end_are_decoded() -> None:
    assert decode_client_message('{"type":"ping"}') == Ping()
    assert decode_client_message('{"type":"audio_end"}') == AudioEnd()


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
    # and 1003: a codec the service does not speak (docs/websocket-protocol.md, "Opus on the wire")
    assert set(protocol.protocol_spec()["closeCodes"].values()) == {1003, 1009, 1011, 4004, 4010, 4029, 4401, 4403}
