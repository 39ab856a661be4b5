"""The offline brain with what the game shares: an honest "I can't look" for pictures, hints ranked by game state."""

from __future__ import annotations

from tests.voice.brains.test_offline import CASTLE, CASTLE_HINT
from tests.voice.fakes import MemoryStore
from voice.brains.offline import CANNOT_LOOK, OfflineHintBrain
from voice.context import Picture
from voice.conversation import Conversation
from voice.game_state import validate_game_state

PICTURE = Picture(data=b"\xff\xd8 a jpeg", mime_type="image/jpeg", width=10, height=10)


def conversation() -> Conversation:
    return Conversation(context=CASTLE, store=MemoryStore(), brain=OfflineHintBrain())


async def test_a_shared_picture_gets_an_honest_reply_that_asks_what_the_child_sees() -> None:
    chat = conversation()
    chat.share_picture(PICTURE)
    first = await chat.answer("what do I do here?")
    assert first.reply.text == CANNOT_LOOK
    assert "can't look" in CANNOT_LOOK and "what you see" in CANNOT_LOOK
    second = await chat.answer("where is the key")
    assert second.reply.text == CASTLE_HINT["finding the key"].text, "the picture is answered once, then forgotten"


async def test_asking_for_help_gets_the_hint_about_the_step_the_game_reports() -> None:
    without_state = await conversation().answer("I'm stuck, can you help me")
    assert without_state.reply.text == CASTLE_HINT["opening the red door"].text
    chat = conversation()
    await chat.report_game_state(validate_game_state({"step": "using the key", "items": ["golden key"]}))
    with_state = await chat.answer("I'm stuck, can you help me")
    assert with_state.reply.text == CASTLE_HINT["using the key"].text
