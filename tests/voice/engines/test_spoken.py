"""The speech engine (VAD → Whisper → brain → voice): replies known ahead are spoken without synthesis."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tests.voice.brains.test_offline import CASTLE
from tests.voice.fakes import MemoryStore
from voice.brains.offline import OfflineHintBrain, authored_replies
from voice.conversation import Conversation
from voice.engines.base import running
from voice.engines.spoken import SpokenChat
from voice.speech import tts
from voice.speech.stt import DecoderPool, StreamingTranscriber


async def test_a_hint_made_ahead_while_the_chat_is_open_is_spoken_without_synthesis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = tts.joe_voice_files()
    assert files is not None
    voice = tts.NeuralVoice(*files, deterministic=True, cached_sentences=0)  # only what was made ahead is kept
    (door,) = [hint for hint in CASTLE.level.hints if hint.topic == "opening the red door"]
    say_ahead = (door.steps[0],)  # of authored_replies(CASTLE.level): the one this question gets
    messages: list[dict[str, object]] = []
    audio: list[bytes] = []

    turn_complete = asyncio.Event()
    prepared = asyncio.Event()
    prepare = voice.prepare

    async def send_json(message: dict[str, object]) -> None:
        messages.append(message)
        if message.get("type") == "turn_complete":
            turn_complete.set()

    async def prepare_and_tell(texts: Sequence[str]) -> int:
        made = await prepare(texts)
        prepared.set()
        return made

    monkeypatch.setattr(voice, "prepare", prepare_and_tell)

    async def send_audio(pcm: bytes) -> None:
        audio.append(pcm)

    pool = DecoderPool(1)  # never started: the child types
    chat = SpokenChat(
        conversation=Conversation(context=CASTLE, store=MemoryStore(), brain=OfflineHintBrain()),
        send_json=send_json,
        send_audio=send_audio,
        transcriber=StreamingTranscriber(pool),
        voice=voice,
        say_ahead=say_ahead,
    )
    every_sentence = [sentence for text in say_ahead for sentence in tts.split_sentences(text)]
    try:
        async with running(chat):
            await asyncio.wait_for(prepared.wait(), 60)
            assert all(voice.cache.is_kept(sentence) for sentence in every_sentence)

            async def no_phonemes(clauses: object, voice: str, **_: object) -> list[str]:
                raise AssertionError("a reply was synthesised while the child waited")

            monkeypatch.setattr(tts, "phonemize", no_phonemes)
            await chat.text("How do I open the red door?")
            await asyncio.wait_for(turn_complete.wait(), 30)
    finally:
        pool.close()
    reply = next(message for message in messages if message.get("type") == "response")
    assert reply["content"] == door.steps[0]
    assert door.steps[0] in authored_replies(CASTLE.level)
    assert sum(len(pcm) for pcm in audio) > 24_000, "the reply was spoken"
