"""The connection: decodes and routes client frames, and runs its engine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.voice.fakes import RecordingEngine
from voice.connection import ChatConnection
from voice.context import ConversationContext, LevelContext

CONTEXT = ConversationContext("s1", 6, LevelContext("Level", "A level."))


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def connection(engine: RecordingEngine, sent: list[dict[str, Any]]) -> ChatConnection:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return ChatConnection(engine=engine, send_json=send, max_text_chars=10)


async def test_ping_is_answered_without_the_engine(connection, engine, sent) -> None:
    await connection.receive_text('{"type":"ping"}')
    assert sent == [{"type": "pong"}]
    assert engine.calls == []


async def test_frames_are_routed_to_the_engine(connection, engine) -> None:
    await connection.receive_text(json.dumps({"type": "text", "content": " hi "}))
    await connection.receive_bytes(b"\x01\x00" * 4)
    await connection.receive_text(json.dumps({"type": "audio_base64", "content": "AQABAA=="}))
    await connection.receive_text('{"type":"audio_end"}')
    await connection.receive_text('{"type":"playback","played_samples":2400}')
    assert engine.calls == [
        ("text", "hi"),
        ("audio", b"\x01\x00" * 4),
        ("audio", b"\x01\x00\x01\x00"),
        ("audio_end", None),
        ("playback", 2400),
    ]


@pytest.mark.parametrize(
    ("frame", "code"),
    [('{"type":"text","content":"far too long text"}', "text_too_long"), ("nope", "invalid_json")],
)
async def test_bad_text_frames_get_an_error_and_reach_no_engine(connection, engine, sent, frame, code) -> None:
    await connection.receive_text(frame)
    assert sent[0]["code"] == code
    assert engine.calls == []


async def test_bad_audio_frames_get_an_error_and_reach_no_engine(connection, engine, sent) -> None:
    await connection.receive_bytes(b"\x01")
    assert sent[0]["code"] == "invalid_audio"
    assert engine.calls == []


async def test_start_runs_the_engine_and_close_stops_then_closes_it(connection, engine) -> None:
    connection.start()
    await asyncio.wait_for(engine.running.wait(), 1)
    await connection.close()
    assert engine.calls == [("run", None), ("cancelled", None), ("close", None)]


async def test_the_uplink_is_archived_only_when_an_archive_is_given(engine, sent, tmp_path) -> None:
    from voice.archive import UplinkArchive

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    archive = UplinkArchive(tmp_path, "s1")
    connection = ChatConnection(engine=engine, send_json=send, archive=archive)
    await connection.receive_bytes(b"\x01\x00" * 4)
    await connection.receive_bytes(b"\x01")  # refused: not archived
    await connection.close()
    assert archive.path.read_bytes() == b"\x01\x00" * 4
