"""The realtime core of a connection: typed turns, their storage, and control frames that never wait."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.conversation import ConversationContext, LevelContext, Mode, Speaker
from voice.providers.base import BrainUnavailable
from voice.session import ChatConnection, TextConversation

CONTEXT = ConversationContext("s1", 6, LevelContext("Level", "A level."))


class Outbox:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(self, message: dict[str, Any]) -> None:
        await self.messages.put(message)

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), timeout=5)


def connection_with(brain: ScriptedBrain, store: MemoryStore | None = None) -> tuple[ChatConnection, Outbox]:
    outbox = Outbox()
    conversation = TextConversation(context=CONTEXT, store=store or MemoryStore(), brain=brain, history_turns=2)
    connection = ChatConnection(conversation=conversation, send_json=outbox.send)
    connection.start()
    return connection, outbox


async def test_answer_stores_the_child_turn_then_the_reply() -> None:
    store = MemoryStore()
    conversation = TextConversation(context=CONTEXT, store=store, brain=ScriptedBrain())
    reply = await conversation.answer("hello")
    assert reply.text == "echo: hello"
    assert store.turns == [
        (Speaker.CHILD, "hello", None, ""),
        (Speaker.ASSISTANT, "echo: hello", Mode.OFFLINE, "scripted"),
    ]


async def test_the_brain_sees_the_newest_turns_within_the_budget() -> None:
    store = MemoryStore()
    brain = ScriptedBrain()
    conversation = TextConversation(context=CONTEXT, store=store, brain=brain, history_turns=2)
    for text in ("one", "two"):
        await conversation.answer(text)
    assert [t.text for t in brain.seen_history[-1]] == ["one", "echo: one"]
    await conversation.answer("three")
    assert [t.text for t in brain.seen_history[-1]] == ["two", "echo: two"]


async def test_the_child_turn_is_kept_when_no_brain_can_answer() -> None:
    store = MemoryStore()
    conversation = TextConversation(context=CONTEXT, store=store, brain=ScriptedBrain(unavailable=True))
    with pytest.raises(BrainUnavailable):
        await conversation.answer("hello")
    assert store.turns == [(Speaker.CHILD, "hello", None, "")]


async def test_a_ping_is_answered_while_a_slow_reply_is_pending() -> None:
    connection, outbox = connection_with(ScriptedBrain(delay=0.5))
    await connection.receive_text(json.dumps({"type": "text", "content": "hi"}))
    await connection.receive_text('{"type":"ping"}')
    assert await outbox.next() == {"type": "pong"}
    assert await outbox.next() == {"type": "response", "content": "echo: hi"}
    await connection.close()


async def test_an_unavailable_helper_is_reported_and_later_turns_still_work() -> None:
    brain = ScriptedBrain(unavailable=True)
    connection, outbox = connection_with(brain)
    await connection.receive_text(json.dumps({"type": "text", "content": "hi"}))
    assert (await outbox.next())["code"] == "helper_unavailable"
    brain.unavailable = False
    await connection.receive_text(json.dumps({"type": "text", "content": "again"}))
    assert (await outbox.next())["content"] == "echo: again"
    await connection.close()


async def test_a_flood_of_text_is_refused_beyond_the_queue() -> None:
    connection, outbox = connection_with(ScriptedBrain(delay=10))
    for number in range(12):
        await connection.receive_text(json.dumps({"type": "text", "content": f"m{number}"}))
    error = await outbox.next()
    assert error["type"] == "error"
    assert "Too many messages" in error["message"]
    await connection.close()


async def test_close_cancels_the_reply_task_and_can_be_repeated() -> None:
    connection, outbox = connection_with(ScriptedBrain(delay=10))
    await connection.receive_text(json.dumps({"type": "text", "content": "hi"}))
    await connection.close()
    await connection.close()
    assert outbox.messages.empty()
