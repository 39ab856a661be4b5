"""The access matrix: who may call what, refused with the right status or close code, and nothing leaks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from audio_chat.models import ChatSession, Level
from audio_chat.services import session_create
from audio_chat.tokens import issue_client_token
from config.asgi import application
from voice.protocol import CloseCode

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def other_session(castle: Level) -> ChatSession:
    return session_create(child_age=9, level=castle, initial_message="secret of the other child")


# --- REST ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/sessions/", "/api/levels/", "/api/history/?session_id=00000000-0000-0000-0000-000000000000"]
)
def test_without_an_api_key_nothing_but_health_answers(path: str, db: None) -> None:
    response = APIClient().get(path)
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}
    assert APIClient().get("/api/health/").status_code == 200


@override_settings(DEBUG=True)
def test_debug_alone_does_not_open_the_api(db: None) -> None:
    assert APIClient().get("/api/sessions/").status_code in (401, 403)


def test_a_revoked_or_unknown_api_key_is_refused(api: APIClient, api_key: str) -> None:
    APIKey.objects.update(revoked=True)
    assert api.get("/api/sessions/").status_code in (401, 403)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Api-Key abc.def")
    assert stranger.get("/api/sessions/").status_code in (401, 403)


def test_a_client_token_reads_and_writes_its_own_session(session: ChatSession, client_token: str) -> None:
    client = bearer(client_token)
    assert client.get(f"/api/sessions/{session.id}/").status_code == 200
    assert client.get(f"/api/history/?session_id={session.id}").status_code == 200
    sent = client.post(f"/api/sessions/{session.id}/messages/", {"content": "where is the key"}, format="json")
    assert sent.status_code == 201


def test_a_client_token_opens_nothing_else(session: ChatSession, client_token: str, other_session: ChatSession) -> None:
    client = bearer(client_token)
    refused = [
        client.get("/api/sessions/"),
        client.get("/api/levels/"),
        client.post("/api/sessions/", {"level_description": "x", "child_age": 6}, format="json"),
        client.delete(f"/api/sessions/{session.id}/"),
        client.post(f"/api/sessions/{session.id}/end_session/"),
        client.get(f"/api/sessions/{other_session.id}/"),
        client.get(f"/api/sessions/{other_session.id}/messages/"),
        client.get(f"/api/history/?session_id={other_session.id}"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all("secret of the other child" not in r.content.decode() for r in refused)
    assert ChatSession.objects.filter(pk=session.pk, is_active=True).exists()


@pytest.mark.parametrize("kind", ["tampered", "expired", "rotated", "garbage"])
def test_a_bad_client_token_is_refused_over_rest(
    session: ChatSession, client_token: str, kind: str, monkeypatch
) -> None:
    token = client_token
    if kind == "tampered":
        token = client_token[:-3] + ("AAA" if not client_token.endswith("AAA") else "BBB")
    elif kind == "garbage":
        token = "not-a-token"
    elif kind == "rotated":
        assert bearer(client_token).post(f"/api/sessions/{session.id}/token/").status_code == 200
    elif kind == "expired":
        later = timezone.now() + dt.timedelta(hours=2)
        monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    assert bearer(token).get(f"/api/sessions/{session.id}/").status_code == 403


def test_refreshing_a_token_rotates_it(session: ChatSession, client_token: str) -> None:
    fresh = bearer(client_token).post(f"/api/sessions/{session.id}/token/").json()
    assert fresh["client_token"] != client_token
    assert bearer(fresh["client_token"]).get(f"/api/sessions/{session.id}/").status_code == 200
    assert bearer(client_token).get(f"/api/sessions/{session.id}/").status_code == 403


def test_an_ended_session_cannot_refresh_its_token(api: APIClient, session: ChatSession) -> None:
    api.post(f"/api/sessions/{session.id}/end_session/")
    assert api.post(f"/api/sessions/{session.id}/token/").status_code == 409


@override_settings(DEBUG=True)
def test_the_demo_page_starts_sessions_in_debug_only(castle: Level) -> None:
    client = APIClient(enforce_csrf_checks=True)
    page = client.get("/")
    csrf = page.cookies["csrftoken"].value
    created = client.post(
        "/demo/sessions/", {"level": "castle-red-door", "child_age": 6}, format="json", HTTP_X_CSRFTOKEN=csrf
    )
    assert created.status_code == 201
    assert created.json()["client_token"]
    assert client.post("/demo/sessions/", {"child_age": 6}, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 400
    without_csrf = APIClient(enforce_csrf_checks=True).post("/demo/sessions/", {}, format="json")
    assert without_csrf.status_code == 403


def test_the_demo_endpoint_does_not_exist_in_production(castle: Level) -> None:
    assert (
        APIClient().post("/demo/sessions/", {"level": "castle-red-door", "child_age": 6}, format="json").status_code
        == 404
    )


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"caller": "3/min"}})
def test_rest_calls_are_throttled_per_caller(api: APIClient) -> None:
    from audio_chat.api.throttles import CallerRateThrottle

    cache.clear()
    CallerRateThrottle.THROTTLE_RATES = {"caller": "3/min"}
    try:
        codes = [api.get("/api/levels/").status_code for _ in range(5)]
    finally:
        CallerRateThrottle.THROTTLE_RATES = {"caller": "100000/min"}
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


# --- WebSocket -------------------------------------------------------------------------------------


async def close_code(
    session_id: str, token: str | None, headers: list[tuple[bytes, bytes]] | None = None
) -> int | None:
    query = "" if token is None else f"?token={token}"
    ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session_id}/{query}", headers=headers or [])
    connected, _ = await ws.connect()
    assert connected
    first: dict[str, Any] = await ws.receive_output(timeout=10)
    await ws.disconnect()
    return first.get("code") if first["type"] == "websocket.close" else None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_websocket_access_matrix(session: ChatSession, client_token: str, other_session: ChatSession) -> None:
    sid = str(session.id)
    other_token, _ = issue_client_token(str(other_session.id))
    with override_settings(WEBSOCKET_AUTH_SECONDS=0.2):
        assert await close_code(sid, None) == CloseCode.UNAUTHORIZED, "no token in the URL, and none sent first"
    assert await close_code(sid, other_token) == CloseCode.UNAUTHORIZED
    assert await close_code(sid, client_token[:-2] + "xx") == CloseCode.UNAUTHORIZED
    rotated, _ = issue_client_token(sid, version=5)
    assert await close_code(sid, rotated) == CloseCode.UNAUTHORIZED
    foreign = [(b"origin", b"https://evil.example.com")]
    assert await close_code(sid, client_token, foreign) == CloseCode.ORIGIN_NOT_ALLOWED
    with override_settings(WEBSOCKET_ALLOWED_ORIGINS=["https://game.example.com"]):
        assert await close_code(sid, client_token, [(b"origin", b"https://game.example.com")]) is None
    assert await close_code(sid, client_token, [(b"origin", b"http://localhost:8000")]) is None
    await database_sync_to_async(ChatSession.objects.filter(pk=session.pk).update)(is_active=False)
    assert await close_code(sid, client_token) == CloseCode.SESSION_ENDED


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_connections_per_session_are_limited(session: ChatSession, client_token: str) -> None:
    cache.clear()
    path = f"/ws/audio-chat/{session.id}/?token={client_token}"
    open_ones = []
    for _ in range(2):
        ws = WebsocketCommunicator(application, path)
        await ws.connect()
        assert (await ws.receive_json_from(timeout=10))["type"] == "connection"
        open_ones.append(ws)
    third = WebsocketCommunicator(application, path)
    await third.connect()
    assert (await third.receive_output(timeout=10))["code"] == CloseCode.LIMIT_REACHED
    await open_ones[0].disconnect()
    again = WebsocketCommunicator(application, path)
    await again.connect()
    assert (await again.receive_json_from(timeout=10))["type"] == "connection", "a freed slot can be used again"
    for ws in (open_ones[1], again):
        await ws.disconnect()
