"""The browser WebSocket protocol: message types, close codes, and the decoder and encoders for them.

This module is the one definition of the protocol. The JavaScript client's ``protocol.js`` is generated
from :func:`protocol_spec` (``python scripts/generate_protocol_js.py``) and a test keeps the two in sync.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from voice.audio_format import (
    AUDIO_CODECS,
    FRAME_MS,
    INPUT_RATE_HZ,
    MAX_AUDIO_FRAME_BYTES,
    MAX_OPUS_PACKET_BYTES,
    OUTPUT_RATE_HZ,
)
from voice.context import GameState
from voice.game_state import MAX_STATE_BYTES, GameStateRejected, validate_game_state
from voice.images import DEFAULT_RULES, ImageRejected, decode_base64_image

DEFAULT_MAX_TEXT_CHARS: Final = 2000
MAX_AUTH_FRAME_CHARS: Final = 4096
MAX_PLAYED_SAMPLES: Final = 2**53  # a count any JSON number can carry exactly


class ClientMessageType(enum.StrEnum):
    AUTH = "auth"
    TEXT = "text"
    AUDIO_BASE64 = "audio_base64"
    AUDIO_END = "audio_end"
    PLAYBACK = "playback"
    IMAGE = "image"
    GAME_STATE = "game_state"
    PING = "ping"


class ServerMessageType(enum.StrEnum):
    CONNECTION = "connection"
    INPUT_TRANSCRIPT = "input_transcript"
    OUTPUT_TRANSCRIPT = "output_transcript"
    RESPONSE = "response"
    INTERRUPTED = "interrupted"
    TURN_COMPLETE = "turn_complete"
    STATUS = "status"
    ERROR = "error"
    PONG = "pong"


class StatusState(enum.StrEnum):
    RECONNECTING = "reconnecting"
    RESUMED = "resumed"
    FALLBACK = "fallback"


class CloseCode(enum.IntEnum):
    UNSUPPORTED_DATA = 1003  # the client asked for an audio codec the service does not speak
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # this worker is overloaded: a new connection is refused before it costs anything
    SESSION_NOT_FOUND = 4004
    SESSION_ENDED = 4010
    LIMIT_REACHED = 4029
    UNAUTHORIZED = 4401
    ORIGIN_NOT_ALLOWED = 4403


class ErrorCode(enum.StrEnum):
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FIELD = "invalid_field"
    TEXT_TOO_LONG = "text_too_long"
    INVALID_AUDIO = "invalid_audio"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE = "image_too_large"
    INVALID_GAME_STATE = "invalid_game_state"
    AUDIO_UNSUPPORTED = "audio_unsupported"
    HELPER_UNAVAILABLE = "helper_unavailable"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    INTERNAL = "internal"


AUDIO_FORMATS: Final[dict[str, dict[str, object]]] = {
    "input": {
        "codec": "pcm",
        "encoding": "pcm_s16le",
        "sample_rate": INPUT_RATE_HZ,
        "channels": 1,
        "frame_ms": FRAME_MS,
    },
    "output": {
        "codec": "pcm",
        "encoding": "pcm_s16le",
        "sample_rate": OUTPUT_RATE_HZ,
        "channels": 1,
        "frame_ms": FRAME_MS,
    },
}


class ProtocolError(Exception):
    """A client frame that cannot be used; the connection answers with an ``error`` message and stays open."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TextInput:
    content: str


@dataclass(frozen=True)
class AudioInput:
    pcm: bytes


@dataclass(frozen=True)
class AudioEnd:
    pass


@dataclass(frozen=True)
class PlaybackReport:
    """How many samples of the helper's audio the client has played since it connected (optional, advisory)."""

    played_samples: int


@dataclass(frozen=True)
class ImageInput:
    """A screenshot as sent (base64-decoded, not yet checked as a picture: ``voice/images.py`` does that)."""

    data: bytes


@dataclass(frozen=True)
class GameStateInput:
    """What the game reports about the child's progress, already validated (``voice/game_state.py``)."""

    state: GameState


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Auth:
    """The client token as the first message, for clients that keep it out of the URL (and so out of logs)."""

    token: str


ClientMessage = TextInput | AudioInput | AudioEnd | PlaybackReport | ImageInput | GameStateInput | Ping | Auth


# Text is stored and sent on as UTF-8: a lone surrogate cannot be encoded, and control characters (NUL above all,
# which PostgreSQL refuses) have no place in what a child types. Tab and line breaks are text.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be accepted (a lone surrogate, a control character), or None when it can.

    The one text rule of the service: the WebSocket ``text`` message and every REST text field apply it.
    """
    if found := _LONE_SURROGATE.search(text):
        return f"contains U+{ord(found.group()):04X}, a lone surrogate, which is not valid Unicode text."
    if found := _CONTROL_CHARACTER.search(text):
        return f"contains U+{ord(found.group()):04X}, a control character; only tab and line breaks are allowed."
    return None


def validate_text(text: str, *, field: str = "content") -> str:
    """``text`` unchanged, or ProtocolError (``invalid_field``) saying what is wrong with it."""
    if (problem := text_problem(text)) is not None:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"'{field}' {problem}")
    return text


def validate_pcm_frame(pcm: bytes) -> bytes:
    """Check one uplink audio frame: PCM16 must be non-empty, whole samples, and at most 64 KiB."""
    if not pcm:
        raise ProtocolError(ErrorCode.INVALID_AUDIO, "Audio frame is empty.")
    if len(pcm) % 2:
        raise ProtocolError(ErrorCode.INVALID_AUDIO, "Audio frame has an odd number of bytes; expected PCM16 samples.")
    if len(pcm) > MAX_AUDIO_FRAME_BYTES:
        raise ProtocolError(
            ErrorCode.INVALID_AUDIO, f"Audio frame is {len(pcm)} bytes; the limit is {MAX_AUDIO_FRAME_BYTES}."
        )
    return pcm


def _decode_base64_audio(content: str) -> bytes:
    # Standard and URL-safe alphabets are both accepted, as the Live API does.
    normalized = content.strip().replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        return base64.b64decode(normalized, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(ErrorCode.INVALID_AUDIO, "audio_base64 content is not valid base64.") from None


def decode_client_message(
    raw: str,
    *,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    max_image_bytes: int = DEFAULT_RULES.max_bytes,
    check_audio: Callable[[bytes], bytes] = validate_pcm_frame,
) -> ClientMessage:
    """Decode one JSON text frame from the client; ``audio_base64`` content is checked as the uplink's codec wants
    (PCM16 unless the client asked for Opus).

    Raises:
        ProtocolError: the frame is not a JSON object, has an unknown ``type``, or a field is wrong.
    """
    try:
        message = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError(ErrorCode.INVALID_JSON, "Message is not valid JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.NOT_AN_OBJECT, "Message must be a JSON object with a 'type'.")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in ClientMessageType.__members__.values():
        known = ", ".join(t.value for t in ClientMessageType)
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type {kind!r}; expected one of: {known}.")
    match ClientMessageType(kind):
        case ClientMessageType.TEXT:
            content = message.get("content")
            if not isinstance(content, str) or not content.strip():
                raise ProtocolError(ErrorCode.INVALID_FIELD, "'content' must be a non-empty string.")
            validate_text(content)
            if len(content) > max_text_chars:
                raise ProtocolError(
                    ErrorCode.TEXT_TOO_LONG, f"'content' is {len(content)} characters; the limit is {max_text_chars}."
                )
            return TextInput(content.strip())
        case ClientMessageType.AUDIO_BASE64:
            content = message.get("content")
            if not isinstance(content, str):
                raise ProtocolError(ErrorCode.INVALID_FIELD, "'content' must be a base64 string of audio.")
            return AudioInput(check_audio(_decode_base64_audio(content)))
        case ClientMessageType.AUDIO_END:
            return AudioEnd()
        case ClientMessageType.PLAYBACK:
            played = message.get("played_samples")
            if isinstance(played, bool) or not isinstance(played, int) or not 0 <= played < MAX_PLAYED_SAMPLES:
                raise ProtocolError(
                    ErrorCode.INVALID_FIELD, "'played_samples' must be a whole number of samples, 0 or more."
                )
            return PlaybackReport(played)
        case ClientMessageType.IMAGE:
            content = message.get("content")
            if not isinstance(content, str):
                raise ProtocolError(ErrorCode.INVALID_FIELD, "'content' must be a base64 JPEG, PNG or WebP image.")
            try:
                return ImageInput(decode_base64_image(content, max_image_bytes))
            except ImageRejected as rejected:
                code = ErrorCode.IMAGE_TOO_LARGE if rejected.too_large else ErrorCode.INVALID_IMAGE
                raise ProtocolError(code, rejected.message) from None
        case ClientMessageType.GAME_STATE:
            try:
                return GameStateInput(validate_game_state(message.get("state")))
            except GameStateRejected as rejected:
                raise ProtocolError(ErrorCode.INVALID_GAME_STATE, str(rejected)) from None
        case ClientMessageType.PING:
            return Ping()
        case ClientMessageType.AUTH:
            token = message.get("token")
            if not isinstance(token, str) or not token:
                raise ProtocolError(ErrorCode.INVALID_FIELD, "'token' must be the session's client token.")
            return Auth(token)


def token_of_auth_message(raw: str | None) -> str | None:
    """The token of a first ``auth`` message; None when the frame is anything else (the connection is refused)."""
    if raw is None or len(raw) > MAX_AUTH_FRAME_CHARS:
        return None
    try:
        message = decode_client_message(raw)
    except ProtocolError:
        return None
    return message.token if isinstance(message, Auth) else None


# --- Server messages ------------------------------------------------------------------------------


def connection_message(
    *,
    session_id: str,
    mode: str,
    model: str,
    history_message_count: int,
    audio_format: dict[str, dict[str, object]] | None = None,
) -> dict[str, Any]:
    """The greeting; ``audio_format`` states the codecs in force (voice.codecs.WireFormats.describe), PCM by default."""
    return {
        "type": ServerMessageType.CONNECTION.value,
        "session_id": session_id,
        "mode": mode,
        "model": model,
        "audio_format": AUDIO_FORMATS if audio_format is None else audio_format,
        "history_message_count": history_message_count,
    }


def response_message(content: str) -> dict[str, Any]:
    return {"type": ServerMessageType.RESPONSE.value, "content": content}


def input_transcript_message(text: str, *, final: bool) -> dict[str, Any]:
    return {"type": ServerMessageType.INPUT_TRANSCRIPT.value, "text": text, "final": final}


def output_transcript_message(text: str) -> dict[str, Any]:
    return {"type": ServerMessageType.OUTPUT_TRANSCRIPT.value, "text": text}


def interrupted_message(*, played_samples: int | None = None) -> dict[str, Any]:
    """``played_samples``: how much of the interrupted reply the client had played (24 kHz), when known."""
    if played_samples is None:
        return {"type": ServerMessageType.INTERRUPTED.value}
    return {"type": ServerMessageType.INTERRUPTED.value, "played_samples": played_samples}


def turn_complete_message(*, interrupted: bool) -> dict[str, Any]:
    return {"type": ServerMessageType.TURN_COMPLETE.value, "interrupted": interrupted}


def status_message(state: StatusState, detail: str = "") -> dict[str, Any]:
    return {"type": ServerMessageType.STATUS.value, "state": state.value, "detail": detail}


def error_message(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"type": ServerMessageType.ERROR.value, "code": code.value, "message": message}


def overloaded_message(retry_after_seconds: int) -> dict[str, Any]:
    """Sent before close 1013: the worker is too busy to take a new child; ``retry_after_seconds`` is a hint."""
    return {
        **error_message(ErrorCode.OVERLOADED, "The helper is very busy right now. Please try again in a moment."),
        "retry_after_seconds": retry_after_seconds,
    }


def pong_message() -> dict[str, Any]:
    return {"type": ServerMessageType.PONG.value}


def protocol_spec() -> dict[str, Any]:
    """Everything a client needs to know about the protocol, as plain data (rendered into protocol.js)."""
    return {
        "clientMessageTypes": {t.name: t.value for t in ClientMessageType},
        "serverMessageTypes": {t.name: t.value for t in ServerMessageType},
        "statusStates": {s.name: s.value for s in StatusState},
        "closeCodes": {c.name: c.value for c in CloseCode},
        "errorCodes": {e.name: e.value for e in ErrorCode},
        "audioFormats": AUDIO_FORMATS,
        "maxAudioFrameBytes": MAX_AUDIO_FRAME_BYTES,
        # What a client sends per audio frame (20-100 ms is recommended): small frames keep the reply quick.
        "uplinkFrameMs": 20,
        "maxImageBytes": DEFAULT_RULES.max_bytes,
        "maxGameStateBytes": MAX_STATE_BYTES,
        "audioCodecs": list(AUDIO_CODECS),
        "maxOpusPacketBytes": MAX_OPUS_PACKET_BYTES,
    }
