"""The fallback chain: the first brain that can answer does."""

from __future__ import annotations

import pytest

from tests.voice.fakes import ScriptedBrain
from voice.brains.base import BrainUnavailable
from voice.brains.chain import FallbackBrain
from voice.context import ConversationContext, LevelContext, Mode

CONTEXT = ConversationContext("s", 6, LevelContext("", "A level."))


async def test_the_first_brain_answers_when_it_can() -> None:
    chain = FallbackBrain([ScriptedBrain(mode=Mode.TEXT, model="gemini"), ScriptedBrain(model="offline")])
    assert (await chain.reply(CONTEXT, [], "hi")).model == "gemini"
    assert chain.mode is Mode.TEXT


async def test_the_next_brain_answers_when_the_first_cannot() -> None:
    chain = FallbackBrain([ScriptedBrain(mode=Mode.TEXT, unavailable=True), ScriptedBrain(model="offline")])
    reply = await chain.reply(CONTEXT, [], "hi")
    assert reply.model == "offline"
    assert reply.mode is Mode.OFFLINE


async def test_no_brain_answering_raises_with_every_reason() -> None:
    chain = FallbackBrain([ScriptedBrain(model="a", unavailable=True), ScriptedBrain(model="b", unavailable=True)])
    with pytest.raises(BrainUnavailable, match=r"a is down.*b is down"):
        await chain.reply(CONTEXT, [], "hi")


def test_an_empty_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackBrain([])
