"""The conversation: what is stored of each turn, and what the brain is given."""

from __future__ import annotations

import pytest

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.brains.base import BrainUnavailable
from voice.context import ConversationContext, LevelContext, Mode, Speaker
from voice.conversation import Conversation

CONTEXT = ConversationContext("s1", 6, LevelContext("Level", "A level."))


async def test_answer_stores_the_child_turn_then_the_reply() -> None:
    store = MemoryStore()
    exchange = await Conversation(context=CONTEXT, store=store, brain=ScriptedBrain()).answer("hello")
    assert exchange.reply.text == "echo: hello"
    assert (exchange.child_turn, exchange.reply_turn) == (1, 2), "the stored turns' ids come back"
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
