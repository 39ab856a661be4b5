"""Operating the service: ending a session reaches its open socket, health, and Prometheus metrics."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from rest_framework.test import APIClient

from audio_chat.models import ChatSession
from audio_chat.services import session_end
from config.asgi import application
from voice.protocol import CloseCode


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_ending_a_session_closes_its_open_websocket_with_4010(session: ChatSession, client_token: str) -> None:
    ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session.id}/?token={client_token}")
    await ws.connect()
    assert (await ws.receive_json_from(timeout=10))["type"] == "connection"
    await database_sync_to_async(session_end)(session)
    closed = await ws.receive_output(timeout=10)
    assert (closed["type"], closed["code"]) == ("websocket.close", CloseCode.SESSION_ENDED)


@pytest.mark.django_db
def test_health_reports_the_database_the_channel_layer_and_the_upstream() -> None:
    body = APIClient().get("/api/health/").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    assert body["upstream"] == {"mode": "offline"}


@pytest.mark.django_db
def test_health_is_503_when_a_dependency_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("audio_chat.health.channel_layer", lambda: "error: ConnectionRefusedError")
    response = APIClient().get("/api/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db
def test_metrics_need_an_api_key_and_export_the_service_metrics(api: APIClient) -> None:
    assert APIClient().get("/api/metrics/").status_code in (401, 403)
    exported = api.get("/api/metrics/").content.decode()
    for name in (
        "audio_chat_active_connections",
        "audio_chat_turns_total",
        "audio_chat_upstream_reconnects_total",
        "audio_chat_fallbacks_total",
        "audio_chat_upstream_errors_total",
        "audio_chat_reply_latency_seconds",
    ):
        assert f"# TYPE {name}" in exported


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_spoken_turn_is_counted_and_its_latency_observed(session: ChatSession, client_token: str) -> None:
    from prometheus_client import REGISTRY

    from tests.speech import spoken_question, stream_realtime

    def turns() -> float:
        return REGISTRY.get_sample_value("audio_chat_turns_total", {"mode": "offline", "interrupted": "false"}) or 0.0

    def latencies() -> float:
        return REGISTRY.get_sample_value("audio_chat_reply_latency_seconds_count", {"mode": "offline"}) or 0.0

    turns_before, latencies_before = turns(), latencies()
    ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session.id}/?token={client_token}")
    await ws.connect()
    await ws.receive_json_from(timeout=10)
    await stream_realtime(lambda frame: ws.send_to(bytes_data=frame), await spoken_question("Where is the key?"))
    while True:
        output = await ws.receive_output(timeout=30)
        if output.get("text") and '"turn_complete"' in output["text"]:
            break
    await ws.disconnect()
    assert turns() == turns_before + 1
    assert latencies() == latencies_before + 1
