"""Offline voice end to end: synthesised children's questions streamed in real time through the WebSocket."""

from __future__ import annotations

import asyncio
import functools

import numpy as np
import pytest
from channels.db import database_sync_to_async

from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.services import session_create
from tests.audio_chat.ws_client import RecordingClient, connect_client
from tests.speech import rms, spoken_question, stream_realtime, word_similarity
from voice.audio_format import OUTPUT_RATE_HZ
from voice.brains.offline import RIGHT_ANSWER
from voice.codecs import OpusDownlinkDecoder, OpusUplinkEncoder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def open_session(slug: str) -> tuple[ChatSession, RecordingClient]:
    level = await database_sync_to_async(Level.objects.get)(slug=slug)
    session = await database_sync_to_async(session_create)(child_age=6, level=level)
    return session, await connect_client(session)


async def ask_aloud(slug: str, question: str, seed: int) -> tuple[ChatSession, RecordingClient, str, str]:
    """Speak ``question`` into a new session; returns what was heard and the reply."""
    session, client = await open_session(slug)
    await stream_realtime(lambda frame: client.ws.send_to(bytes_data=frame), await spoken_question(question, seed=seed))
    await client.until(lambda: client.messages("turn_complete"), limit_seconds=40)
    await client.leave()
    heard = [m["text"] for m in client.messages("input_transcript") if m["final"]]
    said = " ".join(m["text"] for m in client.messages("output_transcript"))
    return session, client, heard[0] if heard else "", said


QUESTIONS = [
    ("castle-red-door", "How do I open the red door?", "opening the red door"),
    ("castle-red-door", "I can't find the key.", "finding the key"),
    ("cloud-jump", "How do I make the bunny jump?", "how to jump"),
    ("letter-bridge", "How do I move the letters?", "moving the letters"),
]


async def test_spoken_questions_are_heard_answered_with_the_right_hint_and_spoken_back(demo_levels) -> None:
    hints = {(lvl.slug, h["topic"]): h["steps"][0] for lvl in demo_levels for h in lvl.hints}
    results = await asyncio.gather(
        *(ask_aloud(slug, question, seed) for seed, (slug, question, _) in enumerate(QUESTIONS))
    )
    right_hints = 0
    for (slug, question, topic), (session, recorder, heard, said) in zip(QUESTIONS, results, strict=True):
        assert word_similarity(question.rstrip("?."), heard) >= 0.5, f"heard {heard!r} for {question!r}"
        # Partial captions come while a recognition worker is free (tests/voice/speech/test_stt.py); with four
        # children at once on two workers the final caption may be the first.
        assert recorder.messages("input_transcript")[-1]["final"] is True, "the child's words end in a final caption"
        right_hints += said == hints[(slug, topic)]
        audio = recorder.audio()
        assert len(audio) % 2 == 0
        assert len(audio) / 2 / OUTPUT_RATE_HZ > 1.0, "the reply is spoken for more than a second"
        assert rms(audio) > 0.02, "the reply audio is speech, not silence"
        stored = await database_sync_to_async(
            lambda s=session: list(ChatMessage.objects.filter(session=s).values_list("sender", "message_type", "text"))
        )()
        assert stored == [("child", "audio", heard), ("assistant", "audio", said)]
    assert right_hints >= 3, f"only {right_hints} of 4 questions got the right hint"


async def test_speaking_over_the_helper_interrupts_it_and_starts_a_new_turn(demo_levels) -> None:
    session, recorder = await open_session("castle-red-door")
    send = lambda frame: recorder.ws.send_to(bytes_data=frame)  # noqa: E731
    await stream_realtime(send, await spoken_question("How do I open the red door?", tail_seconds=0.6))
    await recorder.until(lambda: recorder.audio(), limit_seconds=30)
    await stream_realtime(send, await spoken_question("Where is the key?", lead_seconds=0.1, seed=5))
    await recorder.until(lambda: len(recorder.messages("turn_complete")) >= 2, limit_seconds=40)
    await recorder.leave()

    kinds = [m["type"] if t == "json" else "audio" for t, m in recorder.events]
    cut = kinds.index("interrupted")
    first_complete = kinds.index("turn_complete")
    assert cut < first_complete
    assert "audio" not in kinds[cut:first_complete], "no reply audio is sent after interrupted"
    assert recorder.messages("turn_complete")[0] == {"type": "turn_complete", "interrupted": True}
    assert recorder.messages("turn_complete")[1] == {"type": "turn_complete", "interrupted": False}
    stored = await database_sync_to_async(
        lambda: list(ChatMessage.objects.filter(session=session).values_list("sender", "interrupted", "text"))
    )()
    assert [(sender, interrupted) for sender, interrupted, _ in stored] == [
        ("child", False),
        ("assistant", True),
        ("child", False),
        ("assistant", False),
    ]
    full_first_hint = (
        "The red door needs a key. Have you looked all around the kitchen? Keys like to hide under things!"
    )
    assert len(stored[1][2]) < len(full_first_hint), "only what was voiced before the cut is stored"


def answered(client: RecordingClient, turns: int) -> bool:
    return len(client.messages("turn_complete")) >= turns


async def test_a_spoken_right_answer_is_confirmed_and_a_spoken_repeat_climbs_the_hint_ladder(demo_levels) -> None:
    _, garden = await open_session("counting-garden")
    await stream_realtime(lambda f: garden.ws.send_to(bytes_data=f), await spoken_question("Is it seven?", seed=3))
    await garden.until(lambda: garden.messages("turn_complete"), limit_seconds=40)
    await garden.leave()
    heard = [m["text"] for m in garden.messages("input_transcript") if m["final"]]
    said = " ".join(m["text"] for m in garden.messages("output_transcript"))
    assert said in RIGHT_ANSWER, f"heard {heard!r}, said {said!r}"

    castle, door = await open_session("castle-red-door")
    send = lambda frame: door.ws.send_to(bytes_data=frame)  # noqa: E731
    for turns, seed in ((1, 4), (2, 6)):
        await stream_realtime(send, await spoken_question("How do I open the red door?", seed=seed))
        await door.until(functools.partial(answered, door, turns), limit_seconds=40)
    await door.leave()

    def stored_replies() -> list[str]:
        return list(ChatMessage.objects.filter(session=castle, sender="assistant").values_list("text", flat=True))

    replies = await database_sync_to_async(stored_replies)()
    steps = next(h["steps"] for h in (await database_sync_to_async(Level.objects.get)(slug="castle-red-door")).hints)
    assert replies == steps[:2], "asking the same thing again gets the next, more specific step"


async def test_a_spoken_turn_in_opus_both_ways_is_heard_answered_and_spoken_back(demo_levels) -> None:
    level = await database_sync_to_async(Level.objects.get)(slug="castle-red-door")
    session = await database_sync_to_async(session_create)(child_age=6, level=level)
    client = await connect_client(session, "&codec=opus")
    assert client.messages("connection")[0]["audio_format"]["input"]["codec"] == "opus"
    assert client.messages("connection")[0]["audio_format"]["output"]["codec"] == "opus"
    microphone = OpusUplinkEncoder(rate=48_000)  # as a browser's WebCodecs encoder does: the server decodes at 16 kHz

    async def send_as_opus(frame: bytes) -> None:
        upsampled = np.repeat(np.frombuffer(frame, "<i2"), 3).tobytes()  # 16 → 48 kHz: crude, but speech survives
        for packet in microphone.encode(upsampled):
            await client.ws.send_to(bytes_data=packet)

    await stream_realtime(send_as_opus, await spoken_question("How do I open the red door?"))
    await client.until(lambda: client.messages("turn_complete"), limit_seconds=40)
    await client.leave()
    heard = [m["text"] for m in client.messages("input_transcript") if m["final"]]
    assert heard and word_similarity("How do I open the red door", heard[0]) >= 0.5, f"heard {heard!r}"
    assert client.messages("error") == []
    packets = [m for t, m in client.events if t == "audio"]
    assert max(map(len, packets)) < 400, "every binary message is one 20 ms Opus packet, not PCM"
    player = OpusDownlinkDecoder()
    voice = b"".join(player.decode(packet) for packet in packets)
    assert len(voice) == len(packets) * 960, "each packet is 20 ms of 24 kHz audio"
    assert len(voice) / 2 / OUTPUT_RATE_HZ > 1.0, "the reply is spoken for more than a second"
    assert rms(voice) > 0.02, "the decoded reply is speech, not silence"
    kinds = [m["type"] if t == "json" else "audio" for t, m in client.events]
    assert kinds.index("turn_complete") > max(i for i, kind in enumerate(kinds) if kind == "audio")
