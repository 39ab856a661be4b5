"""The WebSocket consumer: who may connect, the connection message, typed turns, pings and bad frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels import consumer as consumer_module
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.urls import path

from audio_chat import realtime
from audio_chat.consumers import AudioChatConsumer
from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import message_create, session_end
from audio_chat.tokens import issue_client_token
from config.asgi import application
from tests.voice.fakes import RecordingEngine
from voice import protocol
from voice.codecs import Codec, WireFormats
from voice.connection import ChatConnection, ClientLink, ConnectionRefused, OpenedChat
from voice.load import LoadMonitor, LoadSettings
from voice.protocol import AUDIO_FORMATS, CloseCode

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

REPLY_TIMEOUT = 10


def communicator(session_id: str, token: str | None) -> WebsocketCommunicator:
    query = "" if token is None else f"?token={token}"
    return WebsocketCommunicator(application, f"/ws/audio-chat/{session_id}/{query}")


async def open_chat(session: ChatSession, token: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    ws = communicator(str(session.id), token)
    connected, _ = await ws.connect()
    assert connected
    return ws, await ws.receive_json_from(timeout=REPLY_TIMEOUT)


@pytest.fixture
async def chat(session: ChatSession, client_token: str) -> AsyncIterator[WebsocketCommunicator]:
    ws, first = await open_chat(session, client_token)
    assert first["type"] == "connection"
    yield ws
    await ws.disconnect()


async def closed_with(ws: WebsocketCommunicator) -> int:
    connected, _ = await ws.connect()
    assert connected, "the consumer accepts first so that the close code reaches the client"
    output = await ws.receive_output(timeout=REPLY_TIMEOUT)
    assert output["type"] == "websocket.close"
    return int(output["code"])


async def test_connection_message_comes_first_and_describes_the_session(session, client_token) -> None:
    await database_sync_to_async(message_create)(session=session, sender="child", text="earlier")
    ws, first = await open_chat(session, client_token)
    assert first == {
        "type": "connection",
        "session_id": str(session.id),
        "mode": "offline",
        "model": "all-MiniLM-L6-v2",
        "audio_format": AUDIO_FORMATS,
        "history_message_count": 1,
    }
    await ws.disconnect()


async def next_json(ws: WebsocketCommunicator) -> dict[str, Any]:
    """The next JSON message, skipping the reply's audio frames."""
    while True:
        output = await ws.receive_output(timeout=REPLY_TIMEOUT)
        if output.get("text") is not None:
            return dict(json.loads(output["text"]))


async def test_a_typed_message_gets_a_response_and_both_turns_are_stored(chat, session) -> None:
    await chat.send_json_to({"type": "text", "content": "How do I open the red door?"})
    reply = await next_json(chat)
    assert reply["type"] == "response"
    assert "key" in reply["content"]
    assert await next_json(chat) == {"type": "turn_complete", "interrupted": False}
    stored = await database_sync_to_async(lambda: list(ChatMessage.objects.values_list("sender", "text", "mode")))()
    assert stored == [("child", "How do I open the red door?", ""), ("assistant", reply["content"], "offline")]


async def test_ping_is_answered_with_pong(chat) -> None:
    await chat.send_json_to({"type": "ping"})
    assert await chat.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}


async def test_a_later_connection_continues_the_same_conversation(session, client_token) -> None:
    ws, _ = await open_chat(session, client_token)
    await ws.send_json_to({"type": "text", "content": "where is the key"})
    while (await next_json(ws))["type"] != "turn_complete":
        pass
    await ws.disconnect()
    again, first = await open_chat(session, client_token)
    assert first["history_message_count"] == 2
    await again.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "not_an_object"),
        ('"text"', "not_an_object"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"content": "no type"}', "unknown_type"),
        ('{"type": "text"}', "invalid_field"),
        ('{"type": "text", "content": 42}', "invalid_field"),
        ('{"type": "text", "content": "   "}', "invalid_field"),
    ],
)
async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_usable(chat, frame: str, code: str) -> None:
    await chat.send_to(text_data=frame)
    error = await chat.receive_json_from(timeout=REPLY_TIMEOUT)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    await chat.send_json_to({"type": "ping"})
    assert await chat.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


async def test_an_overlong_text_is_refused_and_not_stored(chat) -> None:
    await chat.send_json_to({"type": "text", "content": "a" * 2001})
    error = await chat.receive_json_from(timeout=REPLY_TIMEOUT)
    assert error["code"] == "text_too_long"
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


@pytest.mark.parametrize(("frame", "code"), [(b"", "invalid_audio"), (b"\x01\x02\x03", "invalid_audio")])
async def test_bad_audio_frames_get_an_error(chat, frame: bytes, code: str) -> None:
    # send_to() cannot send an empty frame, so send the ASGI event itself.
    await chat.send_input({"type": "websocket.receive", "bytes": frame})
    assert (await chat.receive_json_from(timeout=REPLY_TIMEOUT))["code"] == code


async def test_silence_makes_no_turn(chat) -> None:
    for _ in range(50):
        await chat.send_to(bytes_data=b"\x00\x00" * 320)
    await chat.send_json_to({"type": "audio_end"})
    await chat.send_json_to({"type": "ping"})
    assert await chat.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    assert await database_sync_to_async(ChatMessage.objects.count)() == 0


async def test_without_a_token_in_the_url_a_first_message_other_than_auth_closes_4401(session) -> None:
    ws = communicator(str(session.id), None)
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "ping"})
    output = await ws.receive_output(timeout=REPLY_TIMEOUT)
    assert (output["type"], output.get("code")) == ("websocket.close", CloseCode.UNAUTHORIZED)


async def test_the_token_may_come_as_the_first_message_instead_of_in_the_url(session, client_token) -> None:
    ws = communicator(str(session.id), None)
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": client_token})
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    await ws.disconnect()


async def test_a_wrong_token_as_the_first_message_closes_4401(session) -> None:
    ws = communicator(str(session.id), None)
    await ws.connect()
    await ws.send_json_to({"type": "auth", "token": "forged:token:value"})
    output = await ws.receive_output(timeout=REPLY_TIMEOUT)
    assert (output["type"], output.get("code")) == ("websocket.close", CloseCode.UNAUTHORIZED)


async def test_a_wrong_token_closes_4401(session) -> None:
    assert await closed_with(communicator(str(session.id), "forged:token:value")) == CloseCode.UNAUTHORIZED


async def test_another_sessions_token_closes_4401(session, castle) -> None:
    other = await database_sync_to_async(ChatSession.objects.create)(child_age=5, level=castle)
    token, _ = issue_client_token(str(other.id))
    assert await closed_with(communicator(str(session.id), token)) == CloseCode.UNAUTHORIZED


async def test_an_unknown_session_closes_4004(db) -> None:
    missing = str(uuid.uuid4())
    token, _ = issue_client_token(missing)
    assert await closed_with(communicator(missing, token)) == CloseCode.SESSION_NOT_FOUND


async def test_an_ended_session_closes_4010(session, client_token) -> None:
    await database_sync_to_async(session_end)(session)
    assert await closed_with(communicator(str(session.id), client_token)) == CloseCode.SESSION_ENDED


async def test_replies_are_answered_in_order(chat) -> None:
    questions = ["where is the key", "how do I use the key"]
    for question in questions:
        await chat.send_to(text_data=json.dumps({"type": "text", "content": question}))
    responses: list[str] = []
    while len(responses) < 2:
        message = await next_json(chat)
        if message["type"] == "response":
            responses.append(message["content"])
    assert "blue" in responses[0]
    assert "hold the key" in responses[1]


async def test_audio_frames_do_not_visit_the_database_thread(chat, monkeypatch) -> None:
    visits: list[str] = []
    original = consumer_module.aclose_old_connections

    async def counting() -> None:
        visits.append("close_old_connections")
        await original()

    monkeypatch.setattr(consumer_module, "aclose_old_connections", counting)
    for _ in range(50):
        await chat.send_to(bytes_data=b"\x00\x00" * 320)
    await chat.send_json_to({"type": "ping"})
    assert await chat.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    assert visits == [], "Channels' per-message trip to the database thread is skipped for frames"


# --- The consumer alone, with a fake connection factory -------------------------------------------------


class FakeFactory:
    """Builds connections around a RecordingEngine; records what it took and whether it was released."""

    def __init__(self, engine: RecordingEngine | None = None, refuse: BaseException | None = None) -> None:
        self.engine = engine or RecordingEngine()
        self.refuse = refuse
        self.tokens: list[str | None] = []
        self.released: list[str] = []
        self.wires: list[WireFormats] = []

    async def __call__(
        self,
        session_id: str,
        token: str | None,
        link: ClientLink,
        resources: contextlib.AsyncExitStack,
        *,
        wire: WireFormats,
    ) -> OpenedChat:
        self.tokens.append(token)
        self.wires.append(wire)
        resources.callback(self.released.append, "slot")
        if self.refuse is not None:
            raise self.refuse
        connection = ChatConnection(engine=self.engine, send_json=link.send_json, close=link.close, name=session_id)
        resources.push_async_callback(connection.close)
        return OpenedChat(connection=connection, greeting={"type": "connection", "session_id": session_id})


def fake_communicator(factory: FakeFactory, query: str = "?token=t") -> WebsocketCommunicator:
    app = URLRouter([path("ws/audio-chat/<uuid:session_id>/", AudioChatConsumer.as_asgi(open_connection=factory))])
    return WebsocketCommunicator(app, f"/ws/audio-chat/{uuid.uuid4()}/{query}")


async def test_the_consumer_greets_then_hands_frames_to_the_connection() -> None:
    factory = FakeFactory()
    ws = fake_communicator(factory)
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await ws.send_json_to({"type": "text", "content": "hello"})
    await ws.send_to(bytes_data=b"\x01\x00" * 8)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    await ws.disconnect()
    assert factory.tokens == ["t"]
    assert [call for call, _ in factory.engine.calls] == ["run", "text", "audio", "cancelled", "close"]
    assert factory.released == ["slot"]


async def test_audio_frames_reach_the_connection_without_a_task_each() -> None:
    factory = FakeFactory()
    ws = fake_communicator(factory)
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    loop = asyncio.get_running_loop()
    default_factory = loop.get_task_factory()
    created: list[str] = []

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Future[Any]:
        created.append(coro.__qualname__)
        if default_factory is not None:
            return default_factory(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting_factory)
    try:
        for _ in range(50):
            await ws.send_to(bytes_data=b"\x01\x00" * 320)
        await asyncio.sleep(0.1)
    finally:
        loop.set_task_factory(default_factory)
    await ws.disconnect()
    assert [call for call, _ in factory.engine.calls].count("audio") == 50
    assert created == [], "Channels' loop made a task and an asyncio.wait for every frame"


async def test_an_engine_that_fails_gets_the_client_an_internal_error_then_1011_and_everything_released() -> None:
    factory = FakeFactory(RecordingEngine(fail_with=RuntimeError("the store broke")))
    ws = fake_communicator(factory)
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    error = await ws.receive_json_from(timeout=1)
    assert (error["type"], error["code"]) == ("error", "internal")
    assert (await ws.receive_output(timeout=1)) == {"type": "websocket.close", "code": 1011}
    await ws.disconnect()
    assert factory.engine.calls[-1] == ("close", None)
    assert factory.released == ["slot"]


async def test_an_unexpected_failure_while_opening_is_logged_answered_1011_and_released(caplog) -> None:
    factory = FakeFactory(refuse=RuntimeError("database down"))
    ws = fake_communicator(factory)
    await ws.connect()
    error = await ws.receive_json_from(timeout=REPLY_TIMEOUT)
    assert (error["type"], error["code"]) == ("error", "internal")
    assert (await ws.receive_output(timeout=1))["code"] == 1011
    assert factory.released == ["slot"]
    assert sum("database down" in (r.exc_text or "") for r in caplog.records) == 1, "logged once, with its traceback"


async def test_a_refusal_closes_with_its_code_and_releases_what_was_taken() -> None:
    factory = FakeFactory(refuse=ConnectionRefused(CloseCode.LIMIT_REACHED))
    ws = fake_communicator(factory)
    await ws.connect()
    assert (await ws.receive_output(timeout=REPLY_TIMEOUT)) == {"type": "websocket.close", "code": 4029}
    assert factory.released == ["slot"]


async def test_a_token_sent_first_reaches_the_factory_and_never_the_engine() -> None:
    factory = FakeFactory()
    ws = fake_communicator(factory, query="")
    await ws.connect()
    await ws.send_json_to({"type": "auth", "token": "secret"})
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await ws.disconnect()
    assert factory.tokens == ["secret"]
    assert [call for call, _ in factory.engine.calls] == ["run", "cancelled", "close"]


async def test_without_a_token_the_socket_closes_4401_after_the_wait(settings) -> None:
    settings.WEBSOCKET_AUTH_SECONDS = 0.1
    factory = FakeFactory()
    ws = fake_communicator(factory, query="")
    await ws.connect()
    assert (await ws.receive_output(timeout=REPLY_TIMEOUT)) == {"type": "websocket.close", "code": 4401}
    assert factory.tokens == []


async def test_an_unknown_codec_is_refused_with_a_reason_and_1003() -> None:
    factory = FakeFactory()
    ws = fake_communicator(factory, "?token=t&codec=mp3")
    await ws.connect()
    error = await ws.receive_json_from(timeout=REPLY_TIMEOUT)
    assert error["code"] == "audio_unsupported" and "mp3" in error["message"]
    assert (await ws.receive_output(timeout=REPLY_TIMEOUT))["code"] == CloseCode.UNSUPPORTED_DATA
    assert factory.tokens == [], "no connection was opened"


async def test_the_codecs_asked_for_in_the_url_reach_the_factory() -> None:
    factory = FakeFactory()
    ws = fake_communicator(factory, "?token=t&codec=opus&codec_in=pcm")
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await ws.disconnect()
    assert factory.wires == [WireFormats(uplink=Codec.PCM, downlink=Codec.OPUS)]


# --- Back-pressure: an overloaded worker refuses new children before opening anything for them -------------------


def loaded_communicator(
    load: LoadMonitor, session_id: str, token: str | None, factory: Any = None
) -> WebsocketCommunicator:
    consumer = AudioChatConsumer.as_asgi(open_connection=factory or realtime.open_connection, load=load)
    app = URLRouter([path("ws/audio-chat/<uuid:session_id>/", consumer)])
    query = "" if token is None else f"?token={token}"
    return WebsocketCommunicator(app, f"/ws/audio-chat/{session_id}/{query}")


def lagging(load: LoadMonitor, seconds: float, *, samples: int = 10) -> None:
    """The monitor's loop woke ``seconds`` late on each of its last ``samples`` ticks."""
    for tick in range(samples):
        load.record(seconds, now=100.0 + tick * 0.05)


async def refused_for_load(ws: WebsocketCommunicator) -> dict[str, Any]:
    connected, _ = await ws.connect()
    assert connected, "accepted first, so that the close code and its reason reach the client"
    error = await ws.receive_json_from(timeout=REPLY_TIMEOUT)
    assert await ws.receive_output(timeout=REPLY_TIMEOUT) == {"type": "websocket.close", "code": 1013}
    return dict(error)


async def test_a_worker_whose_loop_lags_refuses_a_new_child_with_a_retry_hint_and_1013_opening_nothing() -> None:
    load = LoadMonitor(LoadSettings(retry_after_seconds=7))
    lagging(load, 0.2)
    factory = FakeFactory()
    error = await refused_for_load(loaded_communicator(load, str(uuid.uuid4()), "t", factory))
    assert error == protocol.overloaded_message(7)
    assert error["code"] == "overloaded" and error["retry_after_seconds"] == 7
    assert factory.tokens == [], "no token checked, no slot taken, no engine or upstream opened"
    assert load.connections == 0


async def test_at_the_cap_the_admitted_child_keeps_talking_and_a_new_one_gets_in_once_one_leaves(
    session, client_token
) -> None:
    load = LoadMonitor(LoadSettings(max_connections=1))
    admitted = loaded_communicator(load, str(session.id), client_token)
    await admitted.connect()
    assert (await admitted.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    assert load.report().reasons == ("connection_cap",)

    error = await refused_for_load(loaded_communicator(load, str(session.id), client_token))
    assert error["code"] == "overloaded"

    await admitted.send_json_to({"type": "text", "content": "How do I open the red door?"})
    reply = await next_json(admitted)
    assert reply["type"] == "response" and "key" in reply["content"], "the admitted child is answered as usual"
    assert await next_json(admitted) == {"type": "turn_complete", "interrupted": False}
    await admitted.disconnect()
    assert load.connections == 0 and not load.overloaded

    later = loaded_communicator(load, str(session.id), client_token)
    await later.connect()
    first = await later.receive_json_from(timeout=REPLY_TIMEOUT)
    assert first["type"] == "connection" and first["history_message_count"] == 2
    await later.disconnect()


async def test_a_worker_whose_loop_caught_up_admits_children_again() -> None:
    load = LoadMonitor(LoadSettings(window_seconds=1.0))
    lagging(load, 0.2)
    await refused_for_load(loaded_communicator(load, str(uuid.uuid4()), "t", FakeFactory()))
    for tick in range(40):  # a second and more of prompt wakes pushes the late ones out of the window
        load.record(0.001, now=101.0 + tick * 0.05)
    ws = loaded_communicator(load, str(uuid.uuid4()), "t", FakeFactory())
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    assert load.connections == 1
    await ws.disconnect()
    assert load.connections == 0


async def test_a_socket_without_its_token_takes_no_place_and_the_cap_is_asked_again_when_the_token_comes() -> None:
    load = LoadMonitor(LoadSettings(max_connections=1))
    waiting = loaded_communicator(load, str(uuid.uuid4()), None, FakeFactory())
    assert (await waiting.connect())[0]
    assert load.connections == 0, "a socket that has shown no token cannot fill the worker's places"
    admitted = loaded_communicator(load, str(uuid.uuid4()), "t", FakeFactory())
    await admitted.connect()
    assert (await admitted.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await waiting.send_json_to({"type": "auth", "token": "t"})
    assert (await waiting.receive_json_from(timeout=REPLY_TIMEOUT))["code"] == "overloaded"
    assert await waiting.receive_output(timeout=REPLY_TIMEOUT) == {"type": "websocket.close", "code": 1013}
    await waiting.disconnect()
    assert load.connections == 1
    await admitted.disconnect()
    assert load.connections == 0


async def test_a_channel_layer_that_stops_delivering_is_logged_and_the_socket_keeps_working(
    monkeypatch, caplog
) -> None:
    async def broken_receive(self: InMemoryChannelLayer, channel: str) -> dict[str, Any]:
        await asyncio.sleep(0.2)  # the socket is open by then
        raise ConnectionError("the channel layer is gone")

    monkeypatch.setattr(InMemoryChannelLayer, "receive", broken_receive)
    ws = fake_communicator(FakeFactory())
    await ws.connect()
    assert (await ws.receive_json_from(timeout=REPLY_TIMEOUT))["type"] == "connection"
    await asyncio.sleep(0.4)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=REPLY_TIMEOUT) == {"type": "pong"}
    await ws.disconnect()
    assert "Channel-layer messages for this socket stopped" in caplog.text
