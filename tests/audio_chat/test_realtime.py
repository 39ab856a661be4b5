"""Connections built by the realtime wiring fail safely: an unexpected error reaches the client as ``internal`` and
close 1011, is logged once, and leaves no task, slot or decoder behind."""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from audio_chat.models import ChatSession
from audio_chat.services import DjangoConversationStore, session_create
from tests.audio_chat.ws_client import RecordingClient, connect_client
from tests.speech import spoken_question
from voice.speech.stt import StreamingTranscriber

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def tasks_of(session: ChatSession) -> list[str]:
    return [task.get_name() for task in asyncio.all_tasks() if str(session.id) in task.get_name()]


async def fails_with_1011(client: RecordingClient, failed_at: list[float]) -> None:
    """The client hears ``internal``, then the socket closes 1011, within a second of the failure."""
    await client.until(lambda: ("close", 1011) in client.events, limit_seconds=30.0)
    assert failed_at, "the failure happened"
    assert time.monotonic() - failed_at[0] < 1.0
    errors = client.messages("error")
    assert [e["code"] for e in errors] == ["internal"]
    assert client.events.index(("json", errors[0])) < client.events.index(("close", 1011))


async def assert_cleaned_up(session: ChatSession, client: RecordingClient) -> None:
    await client.leave()
    assert tasks_of(session) == [], "no task of the connection is left running"
    again = await connect_client(session)  # one connection per session here: the slot was given back
    assert again.messages("connection")
    await again.leave()


@override_settings(MAX_CONNECTIONS_PER_SESSION=1)
async def test_a_store_that_fails_in_the_middle_of_a_turn_fails_the_connection_cleanly(
    session, monkeypatch, caplog
) -> None:
    original = DjangoConversationStore.add_turn
    calls = 0
    failed_at: list[float] = []

    async def breaks_on_the_reply(self: DjangoConversationStore, *args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            failed_at.append(time.monotonic())
            raise RuntimeError("the database went away while storing the reply")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(DjangoConversationStore, "add_turn", breaks_on_the_reply)
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key"})
    await fails_with_1011(client, failed_at)
    assert sum("database went away" in (r.exc_text or "") for r in caplog.records) == 1, "logged once"
    monkeypatch.setattr(DjangoConversationStore, "add_turn", original)
    await assert_cleaned_up(session, client)


@override_settings(MAX_CONNECTIONS_PER_SESSION=1)
async def test_a_speech_recognition_error_fails_the_connection_cleanly(session, monkeypatch) -> None:
    failed_at: list[float] = []

    async def broken_feed(self: StreamingTranscriber, pcm: bytes) -> str | None:
        failed_at.append(time.monotonic())
        raise RuntimeError("the recogniser crashed")

    monkeypatch.setattr(StreamingTranscriber, "feed", broken_feed)
    client = await connect_client(session)
    await client.speak(await spoken_question("where is the key"))
    await fails_with_1011(client, failed_at)
    await assert_cleaned_up(session, client)


async def test_a_client_flooding_base64_audio_is_held_to_the_byte_limit_and_others_keep_their_pace(
    session, castle, tmp_path
) -> None:
    other = await database_sync_to_async(session_create)(child_age=7, level=castle)
    canary = await connect_client(other)

    async def canary_turn(number: int) -> float:
        """How long the typed answer takes; then the spoken reply is let finish, so turns never queue."""
        started = time.monotonic()
        await canary.ws.send_json_to({"type": "text", "content": f"where is the key {number}"})
        await canary.until(lambda: len(canary.messages("response")) > number, limit_seconds=20)
        answered = time.monotonic() - started
        await canary.until(lambda: len(canary.messages("turn_complete")) > number, limit_seconds=30)
        return answered

    quiet = [await canary_turn(number) for number in range(3)]
    with override_settings(AUDIO_ARCHIVE_DIR=str(tmp_path)):
        flooder = await connect_client(session)
        frame = json.dumps({"type": "audio_base64", "content": base64.b64encode(b"\x01\x00" * 32_768).decode()})
        flood_started = time.monotonic()

        async def flood() -> None:
            for _ in range(400):  # 64 KiB of audio per frame, as fast as the socket takes them
                await flooder.ws.send_to(text_data=frame)
                await asyncio.sleep(0)

        flooding = asyncio.create_task(flood())
        during = [await canary_turn(number) for number in range(3, 6)]
        await flooding
        flood_seconds = time.monotonic() - flood_started
        await flooder.leave()
    await canary.leave()
    accepted = sum(path.stat().st_size for path in tmp_path.glob("*.pcm"))
    allowed = settings.MAX_AUDIO_BYTES_PER_SECOND * (2.0 + flood_seconds)  # the 2 s burst, then the rate
    print(f"canary turns: quiet {statistics.median(quiet):.2f} s, during the flood {statistics.median(during):.2f} s")
    assert accepted <= allowed, f"accepted {accepted} bytes of audio in {flood_seconds:.1f} s"
    assert [m["code"] for m in flooder.messages("error")].count("rate_limited") == 1, "one warning per flood"
    # Compared with the same client's turns just before, on the same machine: absolute times depend on its load.
    assert statistics.median(during) < 3 * statistics.median(quiet) + 2.0, "the canary's turns keep their pace"
