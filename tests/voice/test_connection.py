"""The conversation (storage and brain) and the connection that decodes and routes client frames."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.brains.base import BrainUnavailable
from voice.connection import ChatConnection
from voice.context import ConversationContext, LevelContext, Mode, Speaker
from voice.conversation import Conversation

CONTEXT = ConversationContext("s1", 6, LevelContext("Level", "A level."))


class RecordingEngine:
    mode = Mode.OFFLINE
    model = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self) -> None:
        self.calls.append(("start", None))

    async def close(self) -> None:
        self.calls.append(("close", None))

    async def text(self, content: str) -> None:
        self.calls.append(("text", content))

    async def audio(self, pcm: bytes) -> None:
        self.calls.append(("audio", pcm))

    async def audio_end(self) -> None:
        self.calls.append(("audio_end", None))


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


async def test_answer_stores_the_child_turn_then_the_reply() -> None:
    store = MemoryStore()
    reply = await Conversation(context=CONTEXT, store=store, brain=ScriptedBrain()).answer("hello")
    assert reply.text == "echo: hello"
    assert store.turns == [
        (Speaker.CHILD, "hello", None, "", False, False),
        (Speaker.ASSISTANT, "echo: hello", Mode.OFFLINE, "scripted", False, False),
    ]


async def test_the_brain_sees_the_newest_turns_within_the_budget() -> None:
    brain = ScriptedBrain()
    conversation = Conversation(context=CONTEXT, store=MemoryStore(), brain=brain, history_turns=2)
    for text in ("one", "two", "three"):
        await conversation.answer(text)
    assert [t.text for t in brain.seen_history[1]] == ["one", "echo: one"]
    assert [t.text for t in brain.seen_history[2]] == ["two", "echo: two"]


async def test_the_child_turn_is_kept_when_no_brain_can_answer() -> None:
    store = MemoryStore()
    with pytest.raises(BrainUnavailable):
        await Conversation(context=CONTEXT, store=store, brain=ScriptedBrain(unavailable=True)).answer("hello")
    assert store.turns == [(Speaker.CHILD, "hello", None, "", False, False)]


async def test_a_spoken_reply_is_stored_as_audio_with_its_interruption() -> None:
    store = MemoryStore()
    conversation = Conversation(context=CONTEXT, store=store, brain=ScriptedBrain())
    await conversation.hear("where is the key", spoken=True)
    reply = await conversation.think([], "where is the key")
    await conversation.record_reply("echo:", reply, spoken=True, interrupted=True)
    assert store.turns[0][4] is True
    assert store.turns[1] == (Speaker.ASSISTANT, "echo:", Mode.OFFLINE, "scripted", True, True)


async def test_ping_is_answered_without_the_engine(connection, engine, sent) -> None:
    await connection.receive_text('{"type":"ping"}')
    assert sent == [{"type": "pong"}]
    assert engine.calls == []


async def test_frames_are_routed_to_the_engine(connection, engine) -> None:
    await connection.receive_text(json.dumps({"type": "text", "content": " hi "}))
    await connection.receive_bytes(b"\x01\x00" * 4)
    await connection.receive_text(json.dumps({"type": "audio_base64", "content": "AQABAA=="}))
    await connection.receive_text('{"type":"audio_end"}')
    assert engine.calls == [
        ("text", "hi"),
        ("audio", b"\x01\x00" * 4),
        ("audio", b"\x01\x00\x01\x00"),
        ("audio_end", None),
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


async def test_start_and_close_reach_the_engine(connection, engine) -> None:
    connection.start()
    await connection.close()
    assert engine.calls == [("start", None), ("close", None)]


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
