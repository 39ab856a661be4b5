"""Property tests: no client frame can make the decoder fail other than with a clear ProtocolError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voice import protocol
from voice.audio_format import MAX_AUDIO_FRAME_BYTES
from voice.protocol import AudioEnd, AudioInput, Ping, ProtocolError, TextInput, decode_client_message

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
TYPES = st.sampled_from([*(t.value for t in protocol.ClientMessageType), "TEXT", "", "pong", "audio"])
MESSAGES = st.fixed_dictionaries(
    {"type": TYPES | JSON}, optional={"content": JSON | st.binary().map(lambda b: b.hex())}
)


def check(raw: str) -> None:
    try:
        message = decode_client_message(raw, max_text_chars=100)
    except ProtocolError as error:
        assert error.code in protocol.ErrorCode.__members__.values()
        assert error.message
        return
    match message:
        case TextInput(content=content):
            assert content and content == content.strip() and len(content) <= 100
        case AudioInput(pcm=pcm):
            assert pcm and len(pcm) % 2 == 0 and len(pcm) <= MAX_AUDIO_FRAME_BYTES
        case AudioEnd() | Ping():
            pass


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_decodes_or_is_refused_clearly(raw: str) -> None:
    check(raw)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_any_json_object_decodes_or_is_refused_clearly(message: dict[str, object]) -> None:
    check(json.dumps(message))
