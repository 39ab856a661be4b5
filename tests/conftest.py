"""Shared fixtures: the demo catalog, sessions with client tokens, an API client, and fresh brains per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from audio_chat import realtime
from audio_chat.models import ChatSession, Level
from audio_chat.services import session_create
from audio_chat.tokens import issue_client_token


@pytest.fixture(autouse=True)
def fresh_brains() -> Iterator[None]:
    realtime.reset()
    yield
    realtime.reset()


@pytest.fixture
def demo_levels(db: None) -> list[Level]:
    call_command("load_demo_levels", verbosity=0)
    return list(Level.objects.all())


@pytest.fixture
def castle(demo_levels: list[Level]) -> Level:
    return Level.objects.get(slug="castle-red-door")


@pytest.fixture
def session(castle: Level) -> ChatSession:
    return session_create(child_age=6, level=castle)


@pytest.fixture
def client_token(session: ChatSession) -> str:
    return issue_client_token(str(session.id))[0]


@pytest.fixture
def api_key(db: None) -> str:
    return APIKey.objects.create_key(name="game backend")[1]


@pytest.fixture
def api(api_key: str) -> APIClient:
    """A client that sends the game backend's API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client
