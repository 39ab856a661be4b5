"""Callers that keep being refused are throttled by address before their credentials are looked at."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from audio_chat.models import ChatSession

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_throttle_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@override_settings(REST_REFUSED_RATE_LIMIT="60/min")
def test_three_hundred_unauthenticated_calls_from_one_address_meet_429s(session: ChatSession) -> None:
    client = APIClient()
    statuses = Counter(client.get("/api/sessions/").status_code for _ in range(300))
    assert statuses[403] == 60
    assert statuses[429] == 240
    throttled = client.get("/api/sessions/")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0


@override_settings(REST_REFUSED_RATE_LIMIT="20/min")
def test_changing_the_forged_credential_or_forwarded_address_does_not_escape_the_limit(session: ChatSession) -> None:
    client = APIClient()
    statuses = Counter(
        client.get(
            f"/api/sessions/{session.id}/",
            HTTP_AUTHORIZATION=f"Bearer forged-{number}" if number % 2 else f"Api-Key forged.{number}",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number % 250}",
        ).status_code
        for number in range(60)
    )
    assert statuses[429] == 40


@override_settings(REST_REFUSED_RATE_LIMIT="5/min")
def test_accepted_calls_cost_nothing_against_the_refusal_limit(api: APIClient) -> None:
    assert all(api.get("/api/sessions/").status_code == 200 for _ in range(20))
