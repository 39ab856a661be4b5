"""A body over the upload limit gets a JSON 400 saying so, not Django's HTML error page."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from audio_chat.models import ChatSession

pytestmark = pytest.mark.django_db


def test_a_body_over_the_upload_limit_is_a_json_bad_request(api: APIClient, session: ChatSession) -> None:
    too_big = json.dumps({"child_age": 7, "level_description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    for path in ("/api/sessions/", f"/api/sessions/{session.id}/messages/"):
        response = api.generic("POST", path, too_big, content_type="application/json")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
    assert ChatSession.objects.count() == 1
