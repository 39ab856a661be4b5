"""The emulator as the real google-genai SDK sees it: setup, turns, interruption, resumption and history."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.parse
import urllib.request
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from websockets.exceptions import InvalidStatus

from gemini_emulator import FaultPlan, ScriptedResponder
from gemini_emulator.responders import TONE_LABEL, Conversation, SpokenReply, tone
from tests.gemini_emulator.conftest import (
    MODEL,
    audio_blobs,
    input_text,
    kinds,
    live_config,
    one_turn,
    output_text,
    sdk_client,
    silence,
    stream,
    voiced,
)


async def test_setup_completes_and_is_recorded_with_mixed_case_keys(emulator, client) -> None:
    config = live_config(
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Charon"))
        ),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(silence_duration_ms=300)
        ),
        context_window_compression=types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow()),
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        assert session.setup_complete is not None
    setup = emulator.records[0].setup
    assert setup["model"] == f"models/{MODEL}"
    assert setup["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Charon"
    assert setup["realtimeInputConfig"]["automaticActivityDetection"]["silenceDurationMs"] == 300
    assert "contextWindowCompression" in setup
    assert emulator.records[0].api_version == "v1beta"


async def test_a_spoken_turn_gets_both_transcripts_audio_and_usage(emulator, client, responder) -> None:
    responder.queue_transcript("where is the key")
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await stream(session, voiced(0.6) + silence(0.6))
        messages = await one_turn(session)
    assert kinds(messages)[0] == "input_transcription"
    assert kinds(messages)[-2:] == ["generation_complete", "turn_complete"]
    assert input_text(messages) == "where is the key"
    assert output_text(messages).strip() == f"{TONE_LABEL} Look under the blue rug."
    blobs = audio_blobs(messages)
    assert all(blob.mime_type == "audio/pcm;rate=24000" for blob in blobs)
    assert all(len(blob.data or b"") <= 9600 for blob in blobs)
    assert sum(len(blob.data or b"") for blob in blobs) == len(tone(len("Look under the blue rug.") * 0.03))
    usage = messages[-1].usage_metadata
    assert usage is not None
    assert (usage.response_token_count or 0) > 0


async def test_audio_arrives_in_the_record_byte_for_byte_with_arrival_times(emulator, client) -> None:
    sent = voiced(0.3) + silence(0.1)
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await stream(session, sent)
        await asyncio.sleep(0.2)
    record = emulator.records[0]
    assert bytes(record.audio) == sent
    assert len(record.audio_arrivals) == len(sent) // 640
    times = [t for t, _ in record.audio_arrivals]
    assert times == sorted(times)


async def test_speaking_during_a_reply_interrupts_it(emulator, client, responder) -> None:
    emulator.realtime_factor = 1.0  # a slow reply, so the child can speak over it
    responder._default = "This is a long answer that goes on and on for a good while so it can be interrupted."
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await stream(session, voiced(0.5) + silence(0.5))
        received: list[types.LiveServerMessage] = []
        reply_started = asyncio.Event()

        async def listen() -> None:
            async for message in session.receive():
                received.append(message)
                if message.server_content and message.server_content.model_turn:
                    reply_started.set()

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(reply_started.wait(), 10)
        await stream(session, voiced(0.3))
        await asyncio.wait_for(listener, 10)
    assert kinds(received)[-2:] == ["interrupted", "turn_complete"]
    assert "generation_complete" not in kinds(received)
    record = emulator.records[0]
    full_reply = len(tone(3.0))
    assert sum(size for _, size in record.sent_chunks) < full_reply
    assert record.turns[0]["interrupted"] == "true"


class SlowThinker(ScriptedResponder):
    async def reply(
        self, conversation: Conversation, user_text: str, tool_result: dict[str, Any] | None = None
    ) -> SpokenReply:
        await asyncio.sleep(0.5)
        return await super().reply(conversation, user_text, tool_result)


async def test_speaking_while_the_model_still_thinks_interrupts_and_keeps_the_connection(emulator, client) -> None:
    emulator.responder = SlowThinker()
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await stream(session, voiced(0.5) + silence(0.5))
        await stream(session, voiced(0.2) + silence(0.5))  # before the first answer was thought of
        messages = await one_turn(session)  # the interrupted first turn ends …
        messages += await one_turn(session)  # … and the second question is answered
    assert "interrupted" in kinds(messages)
    assert emulator.records[0].closed_with is None
    assert [turn.get("interrupted") for turn in emulator.records[0].turns] == [None]


async def test_with_interruption_off_a_second_question_is_answered_after_the_first_reply(emulator, client) -> None:
    emulator.realtime_factor = 4.0
    config = live_config(
        realtime_input_config=types.RealtimeInputConfig(activity_handling=types.ActivityHandling.NO_INTERRUPTION)
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=types.Content(role="user", parts=[types.Part(text="first")]))
        await session.send_client_content(turns=types.Content(role="user", parts=[types.Part(text="second")]))
        first, second = await one_turn(session), await one_turn(session)
    assert output_text(first).strip() == f"{TONE_LABEL} I heard: first"
    assert output_text(second).strip() == f"{TONE_LABEL} I heard: second"
    assert "interrupted" not in kinds(first) + kinds(second)


async def test_resuming_with_a_handle_continues_the_conversation(emulator, client) -> None:
    handles: list[str] = []
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_client_content(turns=types.Content(role="user", parts=[types.Part(text="my key is lost")]))
        for message in await one_turn(session):
            if message.session_resumption_update and message.session_resumption_update.new_handle:
                handles.append(message.session_resumption_update.new_handle)
        # The handle sent after turnComplete covers the whole turn.
        update = await asyncio.wait_for(session._receive(), 5)
        handles.append(update.session_resumption_update.new_handle)
    resumed = live_config(session_resumption=types.SessionResumptionConfig(handle=handles[-1]))
    async with client.aio.live.connect(model=MODEL, config=resumed) as session:
        await session.send_realtime_input(text="and now?")
        await one_turn(session)
    assert emulator.records[1].resumed_handle == handles[-1]
    history = emulator.conversations[handles[-1]].history
    assert history[0] == ("user", "my key is lost")
    assert history[1][0] == "model"


async def test_an_unknown_handle_is_refused(client) -> None:
    config = live_config(session_resumption=types.SessionResumptionConfig(handle="no-such-handle"))
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=config):
            pass
    assert raised.value.code == 1007


async def first_handle(client) -> str:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        update = await asyncio.wait_for(session._receive(), 5)
        return str(update.session_resumption_update.new_handle)


@pytest.mark.parametrize("close_code", [1007, 1008])
async def test_forgotten_handles_are_refused_with_the_chosen_close_code(emulator, client, close_code) -> None:
    handle = await first_handle(client)
    assert emulator.forget_handles(close_code=close_code) == 1
    config = live_config(session_resumption=types.SessionResumptionConfig(handle=handle))
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=config):
            pass
    assert raised.value.code == close_code
    assert "handle" in str(raised.value)
    async with client.aio.live.connect(model=MODEL, config=live_config()):
        pass  # a fresh session is still welcome


def test_a_stale_handle_close_code_must_be_1007_or_1008(emulator) -> None:
    with pytest.raises(ValueError, match="1007, 1008"):
        emulator.forget_handles(close_code=1011)


async def test_the_control_endpoint_forgets_handles(emulator, client) -> None:
    handle = await first_handle(client)
    url = f"{emulator.base_url}/emulator/forget-handles?close_code=1008"
    status, body = await asyncio.to_thread(http_get, url, str(emulator.ca_file))
    assert status == 200 and json.loads(body) == {"forgotten": 1}
    assert handle not in emulator.conversations
    assert emulator.stale_handle_close_code == 1008


async def test_history_seeded_through_client_content_comes_before_realtime_input(emulator, client, responder) -> None:
    seen: list[list[tuple[str, str]]] = []

    class Remembering(ScriptedResponder):
        async def reply(
            self, conversation: Conversation, user_text: str, tool_result: dict[str, Any] | None = None
        ) -> SpokenReply:
            seen.append(list(conversation.history))
            return await super().reply(conversation, user_text, tool_result)

    emulator.responder = Remembering(transcripts=["what now"])
    config = live_config(history_config=types.HistoryConfig(initial_history_in_client_content=True))
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await stream(session, voiced(0.4) + silence(0.6))  # held back until the history is complete
        await session.send_client_content(
            turns=[
                types.Content(role="user", parts=[types.Part(text="where is the key")]),
                types.Content(role="model", parts=[types.Part(text="Look under the rug.")]),
            ],
            turn_complete=True,
        )
        messages = await one_turn(session)
    assert "turn_complete" in kinds(messages)
    assert seen == [[("user", "where is the key"), ("model", "Look under the rug.")]]
    assert emulator.records[0].client_content[0]["turnComplete"] is True


async def test_client_content_that_ends_a_user_turn_gets_a_reply(emulator, client) -> None:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="key please")]), turn_complete=True
        )
        messages = await one_turn(session)
    assert "Look under the blue rug." in output_text(messages)


async def test_realtime_text_makes_a_turn(emulator, client) -> None:
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await session.send_realtime_input(text="hello")
        messages = await one_turn(session)
    assert "model_turn" in kinds(messages)
    assert emulator.records[0].realtime_text == ["hello"]


async def test_manual_activity_brackets_a_turn(emulator, client, responder) -> None:
    responder.queue_transcript("where is the key")
    config = live_config(
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        )
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        await stream(session, voiced(0.3))
        await session.send_realtime_input(activity_end=types.ActivityEnd())
        messages = await one_turn(session)
    assert kinds(messages)[0] == "input_transcription"
    assert emulator.records[0].activity == ["activityStart", "activityEnd"]


async def test_audio_stream_end_ends_the_turn_without_waiting_for_silence(emulator, client, responder) -> None:
    responder.queue_transcript("where is the key")
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await stream(session, voiced(0.4))
        await session.send_realtime_input(audio_stream_end=True)
        messages = await one_turn(session)
    assert kinds(messages)[0] == "input_transcription"


@pytest.mark.parametrize("version", ["v1", "v1alpha", "v1beta"])
async def test_any_api_version_is_served(emulator, version: str) -> None:
    async with sdk_client(emulator, api_version=version).aio.live.connect(model=MODEL, config=live_config()) as session:
        assert session.setup_complete is not None
    assert emulator.records[0].api_version == version


async def test_a_wrong_api_key_is_refused_at_the_upgrade(emulator) -> None:
    with pytest.raises(InvalidStatus) as raised:
        async with sdk_client(emulator, api_key="wrong").aio.live.connect(model=MODEL, config=live_config()):
            pass
    assert raised.value.response.status_code == 401


async def test_an_unknown_model_closes_1008_not_found(client) -> None:
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model="gemini-2.0-flash-exp", config=live_config()):
            pass
    assert raised.value.code == 1008
    assert "not found for API version v1beta, or is not supported for bidiGenerateContent" in str(raised.value)


async def test_a_text_modality_on_a_native_audio_model_closes_1007(client) -> None:
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=live_config(response_modalities=[types.Modality.TEXT])):
            pass
    assert raised.value.code == 1007
    assert "non-audio" in str(raised.value)


async def test_a_setup_without_a_model_closes_1007(emulator) -> None:
    from websockets.asyncio.client import connect

    url = (
        emulator.base_url.replace("https", "wss")
        + "//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    )
    async with connect(
        url, ssl=emulator.client_ssl_context(), additional_headers={"x-goog-api-key": emulator.api_key}
    ) as ws:
        await ws.send('{"setup": {"generationConfig": {"responseModalities": ["AUDIO"]}}}')
        await ws.wait_closed()
    assert ws.close_code == 1007


async def test_the_constrained_endpoint_takes_a_token_header(emulator) -> None:
    from websockets.asyncio.client import connect

    url = (
        emulator.base_url.replace("https", "wss")
        + "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained"
    )
    headers = {"Authorization": f"Token {emulator.api_key}"}
    async with connect(url, ssl=emulator.client_ssl_context(), additional_headers=headers) as ws:
        await ws.send(
            f'{{"setup": {{"model": "models/{MODEL}", "generationConfig": {{"responseModalities": ["AUDIO"]}}}}}}'
        )
        assert await ws.recv() == b'{"setupComplete":{}}'


def http_get(url: str, ca_file: str) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(url, context=context, timeout=5) as response:  # noqa: S310 (our own https emulator)
        return response.status, response.read()


async def test_the_control_endpoint_queues_faults_and_lists_records(emulator, client) -> None:
    plan = urllib.parse.quote(FaultPlan(reject_status=429).to_json())
    # In a thread: the emulator runs on this test's event loop.
    status, _ = await asyncio.to_thread(
        http_get, f"{emulator.base_url}/emulator/faults?plan={plan}", str(emulator.ca_file)
    )
    assert status == 200
    with pytest.raises(InvalidStatus):
        async with client.aio.live.connect(model=MODEL, config=live_config()):
            pass
    async with client.aio.live.connect(model=MODEL, config=live_config()):
        pass
    _, body = await asyncio.to_thread(http_get, f"{emulator.base_url}/emulator/records", str(emulator.ca_file))
    assert b'"model": "models/gemini-2.5' in body


async def test_server_messages_are_binary_frames(emulator) -> None:
    from websockets.asyncio.client import connect

    url = (
        emulator.base_url.replace("https", "wss")
        + "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    )
    async with connect(
        url, ssl=emulator.client_ssl_context(), additional_headers={"x-goog-api-key": emulator.api_key}
    ) as ws:
        await ws.send(
            f'{{"setup": {{"model": "models/{MODEL}", "generation_config": {{"response_modalities": ["AUDIO"]}}}}}}'
        )
        assert isinstance(await ws.recv(), bytes)


def test_the_client_for_tests_uses_the_real_sdk(client) -> None:
    assert isinstance(client, genai.Client)
