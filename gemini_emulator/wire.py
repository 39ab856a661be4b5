"""Reading client messages the way protobuf-JSON does (camelCase or snake_case keys) and writing server messages."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")


def camel(key: str) -> str:
    """``voice_config`` → ``voiceConfig``; camelCase keys are left as they are."""
    return _CAMEL_BOUNDARY.sub(lambda m: m.group(1).upper(), key)


def normalize_keys(value: Any) -> Any:
    """Every object key in lowerCamelCase, recursively, as protobuf-JSON parsing accepts both spellings."""
    if isinstance(value, dict):
        return {camel(str(k)): normalize_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_keys(v) for v in value]
    return value


def decode_blob_data(data: str) -> bytes:
    """Base64 in either alphabet (the SDK sends URL-safe), with or without padding.

    Raises:
        ValueError: not base64.
    """
    normalized = data.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        return base64.b64decode(normalized, validate=True)
    except binascii.Error as error:
        raise ValueError(f"invalid base64 data: {error}") from None


def encode(message: dict[str, Any]) -> bytes:
    """A server message as the real service sends it: JSON in a binary frame."""
    return json.dumps(message, separators=(",", ":")).encode()


def duration_seconds(value: Any, default: float) -> float:
    """A protobuf Duration (``"1.5s"``) or a number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return default
    return default


def format_duration(seconds: float) -> str:
    return f"{seconds:g}s"


def base64_standard(data: bytes) -> str:
    """Blob data as the real service sends it: standard base64."""
    return base64.b64encode(data).decode("ascii")
