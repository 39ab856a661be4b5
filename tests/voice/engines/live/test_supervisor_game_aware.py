"""The live engine with what the game shares: pictures and state go up in order with the child's input, survive a
reconnect, and the model's get_hint calls are answered up the authored ladder."""

from __future__ import annotations

import asyncio

from tests.voice.engines.live.test_supervisor import (
    NoResumption,
    ScriptedUpstream,
    ignore,
    switching,
    until,
    until_sent,
)
from tests.voice.fakes import MemoryStore, RecordingEngine, ScriptedBrain
from voice.context import ConversationContext, Hint, LevelContext, Picture
from voice.conversation import Conversation
from voice.engines.base import running
from voice.engines.live import LiveChat
from voice.game_state import validate_game_state
from voice.gemini.events import ToolCall, UpstreamError
from voice.gemini.roster import ModelRoster

LADDER = ("Doors like this open with something.", "Look for a key.", "Tap the door while you hold the key.")
LEVEL = LevelContext("Castle", "A locked red door.", (Hint("the red door", LADDER[0], (), LADDER[1:]),), ("rug",))
PICTURE = Picture(data=b"jpeg", mime_type="image/jpeg", width=1, height=1)


def live_chat(open_upstream: object, store: MemoryStore) -> LiveChat:
    conversation = Conversation(context=ConversationContext("s", 6, LEVEL), store=store, brain=ScriptedBrain())
    return LiveChat(
        conversation=conversation,
        open_upstream=open_upstream,  # type: ignore[arg-type]
        roster=ModelRoster(["live-model"], "Live"),
        resumption=NoResumption(),
        send_json=ignore,
        send_audio=ignore,
        fallback=RecordingEngine,
    )


async def test_a_picture_and_the_game_state_go_up_in_order_with_typed_input() -> None:
    upstream = ScriptedUpstream()
    opener, _ = switching(upstream)
    store = MemoryStore()
    chat = live_chat(opener, store)
    async with running(chat):
        await chat.text("look")
        await until_sent(upstream, 1)
        await chat.image(PICTURE)
        await chat.game_state(validate_game_state({"step": "red door"}))
        await until_sent(upstream, 3)
    assert [kind for kind, _ in upstream.sent] == ["text", "image", "context"]
    assert upstream.sent[1][1] is PICTURE
    assert upstream.sent[2][1].endswith("step: red door")
    assert store.game_states == [{"step": "red door"}]


async def test_a_fresh_upstream_after_a_failure_is_told_the_newest_game_state() -> None:
    first, second = ScriptedUpstream(), ScriptedUpstream()
    opener, opened = switching(first, second)
    chat = live_chat(opener, MemoryStore())
    async with running(chat):
        await chat.game_state(validate_game_state({"step": "red door"}))
        await until_sent(first, 1)
        assert len(first.sent) == 1, "told once: the state is not queued a second time"
        await first.script.put(UpstreamError(1011, "Internal error encountered."))  # type: ignore[arg-type]
        await until(lambda: len(opened) == 2)
        await until_sent(second, 1)
    assert second.sent[0] == ("context", first.sent[0][1])


async def test_get_hint_calls_are_answered_up_the_ladder_and_stored_as_tool_turns() -> None:
    upstream = ScriptedUpstream()
    opener, _ = switching(upstream)
    store = MemoryStore()
    chat = live_chat(opener, store)
    async with running(chat):
        for number in range(4):
            await upstream.script.put(ToolCall(f"call-{number}", "get_hint", {"topic": "door"}))
        await until_sent(upstream, 4)
        await asyncio.sleep(0)
    answers = [payload for kind, payload in upstream.sent if kind == "tool_response"]
    assert [call_id for call_id, _, _ in answers] == ["call-0", "call-1", "call-2", "call-3"]
    assert [result["hint"] for _, _, result in answers] == [*LADDER, LADDER[-1]]
    assert [turn[0] for turn in store.tool_turns] == ["get_hint"] * 4
    assert store.turns == [], "tool turns are not the child's or the helper's speech"
