"""Live voice through the WebSocket, against the Gemini Live emulator with the real google-genai SDK."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from audio_chat import realtime
from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import DjangoConversationStore, message_create
from gemini_emulator import FaultPlan, ScriptedResponder
from tests.audio_chat.conftest import MODEL
from tests.audio_chat.ws_client import RecordingClient, connect_client
from tests.gemini_emulator.conftest import FRAME_BYTES, silence, voiced
from tests.speech import rms, spoken_question
from voice.audio import float_to_pcm16, pcm16_to_float, resample
from voice.audio_format import INPUT_RATE_HZ, OUTPUT_RATE_HZ
from voice.codecs import OpusDownlinkDecoder, OpusUplinkEncoder
from voice.engines.live.bargein import BargeInDetector

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

LONG_REPLY = "This is a long answer about the red door and the key that goes on and on so it can be cut off."


@pytest.fixture
def responder() -> ScriptedResponder:
    return ScriptedResponder(rules=[("key", "Look under the blue rug."), ("long", LONG_REPLY)])


async def until_true(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (the emulator's records offer no event to wait on)
            await asyncio.sleep(0.02)


def stored(session: ChatSession) -> list[tuple[str, str, str, bool, str]]:
    return list(
        ChatMessage.objects.filter(session=session).values_list("sender", "message_type", "text", "interrupted", "mode")
    )


async def test_a_spoken_turn_is_relayed_and_both_transcripts_stored(emulator, responder, session) -> None:
    responder.queue_transcript("where is the key")
    client = await connect_client(session)
    assert client.messages("connection")[0]["mode"] == "live"
    assert client.messages("connection")[0]["model"] == MODEL
    await client.speak(voiced(0.5) + silence(0.6))
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    final = {"type": "input_transcript", "text": "where is the key", "final": True}
    assert client.messages("input_transcript")[-1] == final
    said = "".join(m["text"] for m in client.messages("output_transcript"))
    assert said.strip() == "[tone] Look under the blue rug."
    assert len(client.audio()) > 10_000
    assert client.messages("turn_complete") == [{"type": "turn_complete", "interrupted": False}]
    rows = await database_sync_to_async(stored)(session)
    assert rows == [
        ("child", "audio", "where is the key", False, ""),
        ("assistant", "audio", "[tone] Look under the blue rug.", False, "live"),
    ]
    usage = (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).token_usage
    assert usage.get("response_audio", 0) > 0


async def test_the_emulator_received_the_setup_the_bridge_promises(emulator, session) -> None:
    client = await connect_client(session)
    await client.until(lambda: emulator.records and emulator.records[0].setup)
    await client.leave()
    setup = emulator.records[0].setup
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Charon"
    wanted = {"inputAudioTranscription", "outputAudioTranscription", "sessionResumption", "contextWindowCompression"}
    assert wanted <= set(setup)
    assert "Give hints, never the answer." in setup["systemInstruction"]["parts"][0]["text"]


async def test_a_typed_message_gets_a_spoken_reply_and_a_response(emulator, session) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    assert client.messages("response")[0]["content"] == "[tone] Look under the blue rug."
    rows = await database_sync_to_async(stored)(session)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("child", "text", "where is the key?"),
        ("assistant", "audio", "[tone] Look under the blue rug."),
    ]


async def test_speaking_over_the_helper_interrupts_and_the_reply_is_stored_as_cut(emulator, responder, session) -> None:
    emulator.realtime_factor = 1.0
    responder.queue_transcript("tell me a long story")
    client = await connect_client(session)
    await client.speak(voiced(0.4) + silence(0.6))
    await client.until(lambda: client.audio())
    await client.speak(voiced(0.3))
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    kinds = [m["type"] if t == "json" else t for t, m in client.events]
    assert kinds.index("interrupted") < kinds.index("turn_complete")
    assert client.messages("turn_complete")[0]["interrupted"] is True
    helper = [r for r in await database_sync_to_async(stored)(session) if r[0] == "assistant"]
    assert helper and helper[0][3] is True
    assert len(helper[0][2]) < len("[tone] " + LONG_REPLY)


async def test_a_new_connection_seeds_the_stored_history(emulator, session) -> None:
    for sender, text in [("child", "where is the key?"), ("assistant", "Look under the blue rug.")]:
        await database_sync_to_async(message_create)(session=session, sender=sender, text=text)
    client = await connect_client(session)
    await client.until(lambda: emulator.records and emulator.records[0].client_content)
    await client.leave()
    seeded = emulator.records[0].client_content[0]
    assert [(t["role"], t["parts"][0]["text"]) for t in seeded["turns"]] == [
        ("user", "where is the key?"),
        ("model", "Look under the blue rug."),
    ]
    assert seeded.get("turnComplete") is not True, "2.5 models take history as an incomplete turn (no reply)"


async def test_a_later_connection_resumes_with_the_stored_handle(emulator, session) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await asyncio.sleep(0.2)
    await client.leave()
    again = await connect_client(session)
    await again.until(lambda: len(emulator.records) == 2 and emulator.records[1].setup)
    await again.leave()
    assert emulator.records[1].resumed_handle
    assert emulator.records[1].client_content == [], "a resumed session is not seeded again"


async def test_go_away_switches_over_without_losing_uplink_audio(emulator, session) -> None:
    emulator.queue_faults(FaultPlan(go_away_after=0.4, go_away_time_left=1.5))
    client = await connect_client(session)
    sent = silence(0.4) + voiced(0.2) + silence(2.2)
    await client.speak(sent, pace=0.02)
    await client.until(lambda: len(emulator.records) >= 2)
    await asyncio.sleep(0.5)
    await client.leave()
    assert len(emulator.records) >= 2
    assert emulator.records[1].resumed_handle, "the replacement resumed the same session"
    received = b"".join(bytes(record.audio) for record in emulator.records)
    assert received == sent, "every byte the client sent reached the upstream, in order"
    assert not client.messages("status"), "a planned switch is invisible to the client"


async def test_a_1011_in_the_middle_of_a_turn_resumes(emulator, responder, session) -> None:
    emulator.queue_faults(FaultPlan(close_1011_at_turn=1, close_1011_after_chunks=1))
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "key?"})
    await client.until(lambda: client.messages("status") and client.messages("status")[-1]["state"] == "resumed")
    await client.ws.send_json_to({"type": "text", "content": "key again?"})
    await client.until(lambda: client.messages("response"))
    await client.leave()
    assert [m["state"] for m in client.messages("status")] == ["reconnecting", "resumed"]
    assert client.messages("response")[-1]["content"] == "[tone] Look under the blue rug."
    assert emulator.records[1].resumed_handle


async def test_a_retired_first_model_hands_over_to_the_next(emulator, session) -> None:
    with override_settings(LIVE_MODELS=["gemini-2.0-flash-live-001", MODEL]):
        realtime.reset()
        client = await connect_client(session)
        assert client.messages("connection")[0]["model"] == "gemini-2.0-flash-live-001"
        await client.ws.send_json_to({"type": "text", "content": "key?"})
        await client.until(lambda: client.messages("response"))
        await client.leave()
    refused = emulator.records[0].closed_with
    assert refused is not None and refused[0] == 1008
    assert emulator.records[1].model == f"models/{MODEL}"


async def test_quota_at_the_upgrade_falls_back_to_text_mode(emulator, session) -> None:
    emulator.queue_faults(FaultPlan(reject_status=429))
    client = await connect_client(session)
    await client.until(lambda: client.messages("status"))
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("response"))
    await client.leave()
    assert client.messages("status")[0]["state"] == "fallback"
    assert "blue" in client.messages("response")[0]["content"]  # Gemini text is unreachable here: offline answers
    modes = [r[4] for r in await database_sync_to_async(stored)(session) if r[0] == "assistant"]
    assert modes == ["offline"]


async def test_a_client_that_leaves_mid_turn_keeps_what_was_said(emulator, responder, session) -> None:
    emulator.realtime_factor = 0.5
    responder.queue_transcript("tell me a long story")
    client = await connect_client(session)
    await client.speak(voiced(0.4) + silence(0.6))
    await client.until(lambda: client.messages("output_transcript"))
    await client.leave()
    rows = await database_sync_to_async(stored)(session)
    assert rows[0][:3] == ("child", "audio", "tell me a long story")
    assert rows[1][0] == "assistant" and rows[1][3] is True and rows[1][2]


async def test_bad_frames_get_errors_and_the_connection_stays_usable(emulator, session) -> None:
    client = await connect_client(session)
    await client.ws.send_to(bytes_data=b"\x01\x02\x03")
    await client.ws.send_to(text_data="[1]")
    await client.ws.send_json_to({"type": "text", "content": "key?"})
    await client.until(lambda: client.messages("response"))
    await client.leave()
    assert [m["code"] for m in client.messages("error")] == ["invalid_audio", "not_an_object"]


@override_settings(MAX_CONNECTIONS_PER_SESSION=1)
async def test_a_failure_inside_the_live_engine_fails_the_connection_cleanly(emulator, session, monkeypatch) -> None:
    failed_at: list[float] = []

    async def broken_save(self: DjangoConversationStore, model: str, handle: str) -> None:
        failed_at.append(time.monotonic())
        raise RuntimeError("the database went away while saving the handle")

    monkeypatch.setattr(DjangoConversationStore, "save_resumption", broken_save)
    client = await connect_client(session)
    await client.until(lambda: ("close", 1011) in client.events, limit_seconds=30.0)
    assert time.monotonic() - failed_at[0] < 1.0
    assert [e["code"] for e in client.messages("error")] == ["internal"]
    await client.leave()
    assert [t.get_name() for t in asyncio.all_tasks() if str(session.id) in t.get_name()] == []
    await until_true(lambda: emulator.records[0].ended_at is not None)  # the upstream session was closed
    monkeypatch.undo()
    again = await connect_client(session)
    assert again.messages("connection")[0]["mode"] == "live"
    await again.leave()


# --- barge-in that follows what the child hears -----------------------------------------------------------


_QUESTION: list[bytes] = []


async def child_question() -> bytes:
    """The child's words over the helper: real speech (the barge-in detector ignores tones), made once."""
    if not _QUESTION:
        _QUESTION.append(await spoken_question("Wait, how do I open the red door?", lead_seconds=0, tail_seconds=0))
    return _QUESTION[0]


def frames_until_barge_in(pcm: bytes) -> int:
    """How many 20 ms frames of ``pcm`` the service's detector needs before it cuts in (its default settings)."""
    detector = BargeInDetector(realtime.barge_in_settings())
    for number, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
        if detector.feed(pcm[start : start + FRAME_BYTES], helper_playing=True):
            return number + 1
    raise AssertionError("the detector never hears this speech")


async def speak_in_real_time(client: RecordingClient, pcm: bytes) -> list[float]:
    """Send 20 ms frames at a microphone's pace; returns when each frame was sent."""
    sent: list[float] = []
    started = time.monotonic()
    for number, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
        sent.append(time.monotonic())
        await client.ws.send_to(bytes_data=pcm[start : start + FRAME_BYTES])
        await asyncio.sleep(max(0.0, started + (number + 1) * 0.02 - time.monotonic()))
    return sent


def first_audio_at(client: RecordingClient) -> float:
    return next(at for (kind, _), at in zip(client.events, client.arrived, strict=False) if kind == "audio")


def index_of(client: RecordingClient, kind: str) -> int:
    return next(n for n, (t, m) in enumerate(client.events) if t == "json" and m["type"] == kind)


async def ask_for_the_long_answer(client: RecordingClient, responder: ScriptedResponder) -> None:
    responder.queue_transcript("tell me a long story")
    await client.speak(voiced(0.4) + silence(0.6))
    await client.until(lambda: client.audio())


async def test_talking_over_a_reply_sent_ahead_cuts_it_where_the_child_heard_it(emulator, responder, session) -> None:
    emulator.queue_faults(FaultPlan(realtime_factor=4.0))  # the whole reply arrives long before it is played
    speech = await child_question()
    client = await connect_client(session)
    await ask_for_the_long_answer(client, responder)
    await client.until(lambda: client.messages("output_transcript") and emulator.records[0].turns)
    await asyncio.sleep(max(0.0, first_audio_at(client) + 0.3 - time.monotonic()))
    sent = await speak_in_real_time(client, speech)
    await asyncio.sleep(0.3)
    await client.leave()
    needed = frames_until_barge_in(speech)
    at = index_of(client, "interrupted")
    assert client.arrived[at] - sent[needed - 1] < 0.15, "interrupted within 150 ms of the speech the VAD needs"
    assert [t for t, _ in client.events[at:]].count("audio") == 0, "no reply audio after interrupted"
    assert len(client.messages("interrupted")) == 1
    played = client.messages("interrupted")[0]["played_samples"]
    assert 0.2 * 24_000 < played < 1.2 * 24_000, "about 0.3 s of the reply plus the VAD's onset was heard"
    assert client.messages("turn_complete") == [{"type": "turn_complete", "interrupted": True}]
    helper = [r for r in await database_sync_to_async(stored)(session) if r[0] == "assistant"]
    full = "[tone] " + LONG_REPLY
    assert len(helper) == 1 and helper[0][3] is True
    assert helper[0][2] and full.startswith(helper[0][2]) and len(helper[0][2]) < len(full) / 2


async def test_a_reply_sent_in_real_time_is_interrupted_exactly_once(emulator, responder, session) -> None:
    emulator.queue_faults(FaultPlan(realtime_factor=1.0))  # Gemini is still generating: it interrupts too
    speech = await child_question()
    client = await connect_client(session)
    await ask_for_the_long_answer(client, responder)
    await asyncio.sleep(max(0.0, first_audio_at(client) + 0.3 - time.monotonic()))
    await speak_in_real_time(client, speech)
    await client.until(lambda: client.messages("turn_complete"))
    await asyncio.sleep(0.3)
    await client.leave()
    assert emulator.records[0].turns[0].get("interrupted") == "true", "Gemini interrupted its own reply"
    assert len(client.messages("interrupted")) == 1
    assert client.messages("turn_complete") == [{"type": "turn_complete", "interrupted": True}]
    at = index_of(client, "interrupted")
    assert [t for t, _ in client.events[at:]].count("audio") == 0
    helper = [r for r in await database_sync_to_async(stored)(session) if r[0] == "assistant"]
    assert len(helper) == 1 and helper[0][3] is True and len(helper[0][2]) < len("[tone] " + LONG_REPLY)


async def test_room_noise_and_the_helpers_echo_do_not_interrupt(emulator, session) -> None:
    voiced_helper = ScriptedResponder(rules=[("long", LONG_REPLY)], voice="joe")
    emulator.responder = voiced_helper
    emulator.queue_faults(FaultPlan(realtime_factor=4.0))
    client = await connect_client(session)
    await ask_for_the_long_answer(client, voiced_helper)
    await client.until(lambda: emulator.records[0].turns and emulator.records[0].sent_chunks)
    await asyncio.sleep(0.5)  # most of the reply has arrived; the client plays it for seconds more
    reply = resample(pcm16_to_float(client.audio()), OUTPUT_RATE_HZ, INPUT_RATE_HZ)
    room = np.random.default_rng(5).normal(0.0, 10 ** (-60 / 20), reply.size)  # a quiet room, about -60 dBFS
    echo = float_to_pcm16((reply * 10 ** (-30 / 20) + room).astype(np.float32))  # 30 dB below the reply
    await speak_in_real_time(client, echo[: 3 * INPUT_RATE_HZ * 2])
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    assert client.messages("interrupted") == []
    assert client.messages("turn_complete") == [{"type": "turn_complete", "interrupted": False}]
    helper = [r for r in await database_sync_to_async(stored)(session) if r[0] == "assistant"]
    assert helper == [("assistant", "audio", LONG_REPLY, False, "live")]


# --- a resumption that fails is not a failure of Live -------------------------------------------------


@pytest.mark.parametrize("close_code", [1007, 1008])
async def test_an_expired_handle_starts_a_fresh_seeded_session(emulator, session, close_code) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"))
    await asyncio.sleep(0.2)  # the handle after the turn is saved
    await client.leave()
    emulator.forget_handles(close_code=close_code)
    again = await connect_client(session)
    await again.until(lambda: len(emulator.records) >= 3 and emulator.records[2].client_content)
    await again.ws.send_json_to({"type": "text", "content": "and the key?"})
    await again.until(lambda: again.messages("response"))
    stale, fresh = emulator.records[1], emulator.records[2]
    assert again.messages("connection")[0]["mode"] == "live"
    assert not [e for e in again.events if e[0] == "close"], "the client's socket stays open"
    await again.leave()
    assert stale.closed_with is not None and stale.closed_with[0] == close_code
    assert stale.resumed_handle == "" and "handle" in str(stale.setup.get("sessionResumption"))
    assert not fresh.setup.get("sessionResumption", {}).get("handle"), "the fresh session resumes nothing"
    assert [(t["role"], t["parts"][0]["text"]) for t in fresh.client_content[0]["turns"]] == [
        ("user", "where is the key?"),
        ("model", "[tone] Look under the blue rug."),
    ]
    assert again.messages("status") == [], "no fallback, not even a reconnecting notice"
    assert again.messages("response")[0]["content"] == "[tone] Look under the blue rug."
    assert len(emulator.records) == 3, "the stale handle was tried once, then dropped"


# --- Opus on the wire: the same turns when the client asked for ?codec=opus -----------------------


async def speak_opus(client: RecordingClient, pcm: bytes, pace: float = 0.0) -> int:
    """Send 16 kHz PCM as 20 ms Opus packets; returns how many were sent."""
    packets = OpusUplinkEncoder().encode(pcm)
    for packet in packets:
        await client.ws.send_to(bytes_data=packet)
        if pace:
            await asyncio.sleep(pace)
    return len(packets)


def decoded_reply(client: RecordingClient) -> bytes:
    packets = [m for t, m in client.events if t == "audio"]
    assert packets and max(map(len, packets)) < 400, "every binary message is one Opus packet"
    player = OpusDownlinkDecoder()
    return b"".join(player.decode(packet) for packet in packets)


async def test_a_spoken_turn_in_opus_is_relayed_and_the_reply_comes_back_in_opus(emulator, responder, session) -> None:
    responder.queue_transcript("where is the key")
    client = await connect_client(session, "&codec=opus")
    greeting = client.messages("connection")[0]
    assert greeting["mode"] == "live"
    assert greeting["audio_format"]["input"]["codec"] == greeting["audio_format"]["output"]["codec"] == "opus"
    await speak_opus(client, voiced(0.5) + silence(0.6))
    await client.until(lambda: client.messages("turn_complete"))
    await client.leave()
    assert client.messages("input_transcript")[-1]["text"] == "where is the key"
    assert "".join(m["text"] for m in client.messages("output_transcript")).strip() == "[tone] Look under the blue rug."
    voice = decoded_reply(client)
    assert len(voice) > 10_000
    assert rms(voice) > 0.02, "the helper's tone survives the codec"
    kinds = [m["type"] if t == "json" else "audio" for t, m in client.events]
    assert kinds.index("turn_complete") > max(i for i, kind in enumerate(kinds) if kind == "audio")
    assert client.messages("error") == []


async def test_go_away_in_opus_switches_over_without_losing_uplink_audio(emulator, session) -> None:
    emulator.queue_faults(FaultPlan(go_away_after=0.4, go_away_time_left=1.5))
    client = await connect_client(session, "&codec=opus")
    sent = await speak_opus(client, silence(0.4) + voiced(0.2) + silence(2.2), pace=0.02)
    await client.until(lambda: len(emulator.records) >= 2)
    await asyncio.sleep(0.5)
    await client.leave()
    assert emulator.records[1].resumed_handle, "the replacement resumed the same session"
    received = b"".join(bytes(record.audio) for record in emulator.records)
    assert len(received) == sent * 640, "every packet reached the upstream as 20 ms of 16 kHz PCM, none lost"
    assert not client.messages("status")


async def test_a_1011_mid_turn_in_opus_resumes_and_the_next_reply_is_opus(emulator, responder, session) -> None:
    emulator.queue_faults(FaultPlan(close_1011_at_turn=1, close_1011_after_chunks=1))
    client = await connect_client(session, "&codec=opus")
    await client.ws.send_json_to({"type": "text", "content": "key?"})
    await client.until(lambda: client.messages("status") and client.messages("status")[-1]["state"] == "resumed")
    await client.ws.send_json_to({"type": "text", "content": "key again?"})
    await client.until(lambda: len(client.messages("turn_complete")) >= 2)
    await client.leave()
    assert client.messages("response")[-1]["content"] == "[tone] Look under the blue rug."
    assert rms(decoded_reply(client)) > 0.02


async def test_the_text_fallback_speaks_opus_too(emulator, session) -> None:
    emulator.queue_faults(FaultPlan(reject_status=429))
    client = await connect_client(session, "&codec=opus")
    await client.until(lambda: client.messages("status"))
    await client.ws.send_json_to({"type": "text", "content": "where is the key?"})
    await client.until(lambda: client.messages("turn_complete"), limit_seconds=40)
    await client.leave()
    assert client.messages("status")[0]["state"] == "fallback"
    voice = decoded_reply(client)
    assert len(voice) / 2 / 24_000 > 1.0, "the offline voice's reply, encoded to Opus"
    assert rms(voice) > 0.02
