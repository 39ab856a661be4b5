"""Session operations reach the session's open sockets, on any worker: rotating, erasing and ending close them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import session_delete, session_end, session_rotate_token
from tests.audio_chat.ws_client import connect_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.mark.parametrize(
    ("operation", "code"),
    [(session_rotate_token, 4401), (session_delete, 4004), (session_end, 4010)],
    ids=["rotated token", "erased", "ended"],
)
async def test_an_operation_on_the_session_closes_its_open_socket(
    session: ChatSession, operation: Callable[[ChatSession], Any], code: int
) -> None:
    client = await connect_client(session)
    await database_sync_to_async(operation)(session)
    await client.until(lambda: ("close", code) in client.events)
    await client.leave()


async def test_a_socket_of_an_erased_session_stores_nothing_more(session: ChatSession, caplog) -> None:
    client = await connect_client(session)
    await client.ws.send_json_to({"type": "text", "content": "where is the key"})
    await database_sync_to_async(session_delete)(session)
    await client.until(lambda: ("close", 4004) in client.events)
    await client.leave()
    assert await database_sync_to_async(ChatMessage.objects.filter(session_id=session.pk).count)() == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "no foreign-key traceback after erasure"
