"""Shared fixtures: the demo catalog, sessions with client tokens, an API client, and fresh brains per test."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from audio_chat import realtime
from audio_chat.models import ChatSession, Level
from audio_chat.services import session_create
from audio_chat.tokens import issue_client_token
from tests import processes


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


@dataclass
class RunningService:
    """The service under uvicorn with a file database: what `make run` starts."""

    base_url: str
    folder: Path
    log: Path
    api_key: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (our own local server)
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Api-Key {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


@pytest.fixture(scope="session")
def running_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    folder = tmp_path_factory.mktemp("service")
    base_url, process, log = processes.start_service(folder)
    processes.manage(folder, "load_demo_levels")
    api_key = processes.manage(folder, "create_api_key", "tests").strip().splitlines()[-1]
    yield RunningService(base_url, folder, log, api_key)
    processes.stop(process)
