"""Absurd ``?limit=`` and ``?offset=`` values on every paginated list are clamped: never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audio_chat.models import ChatSession
from audio_chat.services import message_create

pytestmark = pytest.mark.django_db

ABSURD = [str(2**63), str(2**64), str(10**100), "-1", "0", "abc", "1e9", "9" * 5000]


@pytest.mark.parametrize("value", ABSURD)
@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_every_list_answers_absurd_paging_values_without_error(
    api: APIClient, session: ChatSession, client_token: str, parameter: str, value: str
) -> None:
    for number in range(3):
        message_create(session=session, sender="child", text=f"turn {number}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client_token}")
    lists = [
        (api, "/api/sessions/"),
        (api, "/api/levels/"),
        (api, f"/api/sessions/{session.id}/messages/"),
        (client, f"/api/sessions/{session.id}/messages/"),  # the game client's own transcript
    ]
    for caller, path in lists:
        response = caller.get(path, {parameter: value})
        assert response.status_code == 200, (path, response.content[:300])
        assert len(response.json()["results"]) <= 200
    history = api.get("/api/history/", {"session_id": str(session.id), "limit": value})
    assert history.status_code in (200, 400), history.content[:300]


def test_a_huge_limit_is_clamped_to_the_largest_page(api: APIClient, session: ChatSession) -> None:
    for number in range(205):
        message_create(session=session, sender="child", text=f"turn {number}")
    response = api.get(f"/api/sessions/{session.id}/messages/", {"limit": str(2**63)})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 200
