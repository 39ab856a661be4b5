"""JSON bodies nested past the decoder's limit are a 400, on every endpoint that reads a body."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audio_chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db

DEPTH = 100_000
NESTED = [
    "[" * DEPTH + "]" * DEPTH,
    '{"a":' * DEPTH + "1" + "}" * DEPTH,
    '{"child_age": 7, "level_description": ' + "[" * DEPTH + "]" * DEPTH + "}",
]


@pytest.mark.parametrize("body", NESTED)
def test_deeply_nested_json_is_a_bad_request(api: APIClient, session: ChatSession, body: str) -> None:
    for path in ("/api/sessions/", f"/api/sessions/{session.id}/messages/", "/api/levels/"):
        response = api.generic("POST", path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:200])
        assert "nested too deeply" in response.json()["detail"]
    assert ChatSession.objects.count() == 1
    assert ChatMessage.objects.count() == 0
