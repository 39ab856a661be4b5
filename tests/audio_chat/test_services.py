"""Session operations: rotating, erasing and ending reach the session's open sockets on any worker, and erasing
leaves none of its text in the SQLite files (neither the database nor its write-ahead log)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import session_delete, session_end, session_rotate_token
from tests.audio_chat.ws_client import connect_client
from tests.conftest import RunningService


@pytest.mark.parametrize(
    ("operation", "code"),
    [(session_rotate_token, 4401), (session_delete, 4004), (session_end, 4010)],
    ids=["rotated token", "erased", "ended"],
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_operation_on_the_session_closes_its_open_socket(
    session: ChatSession, operation: Callable[[ChatSession], Any], code: int
) -> None:
    client = await connect_client(session)
    await database_sync_to_async(operation)(session)
    await client.until(lambda: ("close", code) in client.events)
    await client.leave()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_of_an_erased_session_stores_nothing_more(session: ChatSession, caplog) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key"})
    await database_sync_to_async(session_delete)(session)
    await client.until(lambda: ("close", 4004) in client.events)
    await client.leave()
    assert await database_sync_to_async(ChatMessage.objects.filter(session_id=session.pk).count)() == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "no foreign-key traceback after erasure"


def test_an_erased_sessions_text_is_in_neither_the_database_nor_the_wal(running_service: RunningService) -> None:
    secret = f"Zanzibar-{uuid.uuid4().hex}"
    status, session = running_service.request(
        "POST", "/api/sessions/", {"child_age": 7, "level_description": f"level {secret}", "initial_message": secret}
    )
    assert status == 201
    for turn in range(3):
        status, _ = running_service.request(
            "POST", f"/api/sessions/{session['id']}/messages/", {"content": f"my password is {secret} {turn}"}
        )
        assert status == 201
    database = running_service.folder / "db.sqlite3"
    wal = running_service.folder / "db.sqlite3-wal"
    stored = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert secret.encode() in stored, "the text was stored before the erasure"

    status, _ = running_service.request("DELETE", f"/api/sessions/{session['id']}/")
    assert status == 204

    assert secret.encode() not in database.read_bytes()
    assert not wal.exists() or secret.encode() not in wal.read_bytes()
