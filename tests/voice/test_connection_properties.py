"""Property tests: no sequence of frames crashes a connection or hands the engine anything invalid."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.voice.fakes import RecordingEngine
from voice import protocol
from voice.connection import ChatConnection

FRAMES = st.lists(
    st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=200),
        st.builds(
            lambda t, c: json.dumps({"type": t, "content": c}),
            st.sampled_from(["text", "audio_base64", "ping", "audio_end", "x"]),
            st.text(max_size=80) | st.integers(),
        ),
    ),
    max_size=12,
)


async def run(frames: list[bytes | str]) -> tuple[RecordingEngine, list[dict[str, Any]], list[int]]:
    engine = RecordingEngine()
    sent: list[dict[str, Any]] = []
    closed: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def close(code: int) -> None:
        closed.append(code)

    connection = ChatConnection(engine=engine, send_json=send, close=close, max_text_chars=50)
    for frame in frames:
        if isinstance(frame, bytes):
            await connection.receive_bytes(frame)
        else:
            await connection.receive_text(frame)
    return engine, sent, closed


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAMES)
def test_any_frames_leave_the_connection_answering_and_the_engine_clean(frames: list[bytes | str]) -> None:
    engine, sent, closed = asyncio.run(run(frames))
    assert all(m["type"] in ("error", "pong") for m in sent), "only errors and pongs come from bad or odd input"
    assert all(m["code"] in protocol.ErrorCode.__members__.values() for m in sent if m["type"] == "error")
    assert set(closed) <= {1009, 4029}
    for kind, payload in engine.calls:
        if kind == "audio":
            assert payload and len(payload) % 2 == 0
        if kind == "text":
            assert payload.strip() and len(payload) <= 50
