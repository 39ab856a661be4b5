"""The live engine's turns against a playback clock: held while played, cut where the child stopped hearing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.context import ConversationContext, LevelContext, Speaker
from voice.conversation import Conversation
from voice.engines.live.playback import PlaybackClock
from voice.engines.live.turns import TurnRecorder
from voice.write_behind import WriteBehind

CHUNK = b"\x00\x01" * 4800  # 0.2 s of 24 kHz audio


class FakeTime:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.time = FakeTime()
        self.store = MemoryStore()
        self.sent: list[dict[str, Any]] = []
        context = ConversationContext("session", 6, LevelContext("Level", "", ()))
        conversation = Conversation(context=context, store=self.store, brain=ScriptedBrain())
        self.writes = WriteBehind()
        self.turns = TurnRecorder(
            conversation=conversation,
            send_json=self.send,
            clock=PlaybackClock(start_delay=0.0, clock=self.time),
            writes=self.writes,
        )

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def kinds(self) -> list[str]:
        return [m["type"] for m in self.sent]

    async def helper_rows(self) -> list[tuple[str, bool]]:
        """The helper's stored turns, once every write handed over so far is made."""
        await self.writes.flush()
        return [
            (text, interrupted)
            for speaker, text, _, _, _, interrupted in self.store.turns
            if speaker is Speaker.ASSISTANT
        ]

    async def reply(self, words: list[str]) -> None:
        """One audio chunk, then its caption, per word: as the emulator sends a reply."""
        for word in words:
            assert await self.turns.helper_audio(CHUNK)
            await self.turns.helper_said(word)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


WORDS = ["One", " two", " three", " four", " five"]  # 1 s of audio


async def test_a_reply_completed_while_it_plays_is_stored_once_played(recorder) -> None:
    await recorder.turns.child_heard("tell me")
    await recorder.reply(WORDS)
    await recorder.turns.finish("model")
    assert "turn_complete" not in recorder.kinds()
    assert recorder.turns.audible()
    recorder.time.now += 0.5
    await recorder.turns.settle_played()
    assert await recorder.helper_rows() == []
    recorder.time.now += 0.6
    await recorder.turns.settle_played()
    assert await recorder.helper_rows() == [("One two three four five", False)]
    assert recorder.sent[-1] == {"type": "turn_complete", "interrupted": False}


async def test_a_barge_in_on_a_held_reply_cuts_it_where_it_was_heard(recorder) -> None:
    await recorder.turns.child_heard("tell me")
    await recorder.reply(WORDS)
    await recorder.turns.finish("model")
    recorder.time.now += 0.45
    assert await recorder.turns.barge_in()
    assert recorder.sent[-2] == {"type": "interrupted", "played_samples": round(0.45 * 24_000)}
    assert recorder.sent[-1] == {"type": "turn_complete", "interrupted": True}
    assert await recorder.helper_rows() == [("One two", True)]
    assert not recorder.turns.audible()
    assert not await recorder.turns.barge_in(), "nothing left to cut"


async def test_a_barge_in_mutes_the_rest_of_a_reply_and_gemini_does_not_cut_it_twice(recorder) -> None:
    await recorder.turns.child_heard("tell me")
    await recorder.reply(WORDS[:3])
    recorder.time.now += 0.3
    assert await recorder.turns.barge_in()
    assert not await recorder.turns.helper_audio(CHUNK), "the rest of the reply is not forwarded"
    await recorder.turns.helper_said(" four")
    await recorder.turns.interrupted()  # Gemini heard the child too
    await recorder.turns.finish("model")
    assert recorder.kinds().count("interrupted") == 1
    assert "output_transcript" not in recorder.kinds()[recorder.kinds().index("interrupted") :]
    assert await recorder.helper_rows() == [("One", True)]
    assert recorder.sent[-1] == {"type": "turn_complete", "interrupted": True}


async def test_gemini_interrupting_first_gives_the_played_position(recorder) -> None:
    await recorder.turns.child_heard("tell me")
    await recorder.reply(WORDS)
    recorder.time.now += 0.25
    await recorder.turns.interrupted()
    assert not await recorder.turns.barge_in()
    await recorder.turns.finish("model")
    assert recorder.sent[recorder.kinds().index("interrupted")] == {"type": "interrupted", "played_samples": 6000}
    assert await recorder.helper_rows() == [("One", True)]


async def test_a_new_reply_completes_the_held_one_first(recorder) -> None:
    await recorder.turns.child_heard("tell me")
    await recorder.reply(WORDS)
    await recorder.turns.finish("model")
    await recorder.turns.child_heard("and then?")
    await recorder.reply(["Then"])
    await recorder.writes.flush()
    speakers = [turn[0] for turn in recorder.store.turns]
    assert speakers == [Speaker.CHILD, Speaker.ASSISTANT, Speaker.CHILD]
    assert await recorder.helper_rows() == [("One two three four five", False)]


async def test_a_typed_turn_is_stored_before_it_goes_up(recorder) -> None:
    writer = asyncio.create_task(recorder.writes.run())
    await asyncio.wait_for(recorder.turns.typed("where is the key?"), 1)
    writer.cancel()
    assert [(speaker, text) for speaker, text, *_ in recorder.store.turns] == [(Speaker.CHILD, "where is the key?")]


async def test_a_typed_turns_text_does_not_wait_for_its_voice(recorder) -> None:
    writer = asyncio.create_task(recorder.writes.run())
    await recorder.turns.typed("where is the key?")
    writer.cancel()
    await recorder.reply(WORDS)
    await recorder.turns.finish("model")
    assert recorder.sent[-1] == {"type": "response", "content": "One two three four five"}
    recorder.time.now += 2
    await recorder.turns.settle_played()
    assert recorder.kinds().count("response") == 1
    assert recorder.sent[-1] == {"type": "turn_complete", "interrupted": False}
