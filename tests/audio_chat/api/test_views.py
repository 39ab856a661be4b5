"""The REST API: every endpoint, its bad input, and access with and without an API key."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.services import message_create
from audio_chat.tokens import check_client_token
from voice.brains.offline import BACK_TO_THE_GAME, RIGHT_ANSWER

pytestmark = pytest.mark.django_db


def test_health_needs_no_key_and_names_the_offline_mode_without_gemini_key() -> None:
    response = APIClient().get("/api/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["mode"] == "offline"


@override_settings(GEMINI_API_KEY="a-key")
def test_health_names_live_mode_when_a_gemini_key_is_set() -> None:
    assert APIClient().get("/api/health/").json()["mode"] == "live"


@override_settings(GEMINI_API_KEY="a-key", BRAIN_MODE="text")
def test_health_names_text_mode_when_it_is_chosen() -> None:
    assert APIClient().get("/api/health/").json()["mode"] == "text"


def test_requests_without_an_api_key_are_refused(api_key: str) -> None:
    response = APIClient().get("/api/sessions/")
    assert response.status_code in (401, 403)
    assert "API key" in response.json()["detail"]


def test_a_revoked_api_key_is_refused(api: APIClient, api_key: str) -> None:
    APIKey.objects.update(revoked=True)
    assert api.get("/api/sessions/").status_code in (401, 403)


@override_settings(DEBUG=True)
def test_debug_enforces_keys_once_one_exists(api_key: str) -> None:
    assert APIClient().get("/api/sessions/").status_code in (401, 403)


def test_create_session_with_a_catalog_level_returns_a_token_for_that_session(api: APIClient, castle: Level) -> None:
    response = api.post("/api/sessions/", {"level": "castle-red-door", "child_age": 7}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["level"] == "castle-red-door"
    assert body["level_description"] == castle.description
    assert body["websocket_path"] == f"/ws/audio-chat/{body['id']}/"
    check_client_token(body["client_token"], body["id"])
    assert ChatSession.objects.filter(pk=body["id"], child_age=7).exists()


def test_create_session_with_a_free_text_level(api: APIClient) -> None:
    response = api.post(
        "/api/sessions/",
        {"level_description": "A maze with a dragon", "child_age": 4, "initial_message": "Child is stuck at the gate"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["level"] is None
    assert response.json()["initial_message"] == "Child is stuck at the gate"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"level_description": "maze", "child_age": 3}, "child_age"),
        ({"level_description": "maze", "child_age": 11}, "child_age"),
        ({"level_description": "maze", "child_age": "six"}, "child_age"),
        ({"level_description": "maze"}, "child_age"),
        ({"child_age": 6}, "level_description"),
        ({"level": "no-such-level", "child_age": 6}, "level"),
        ({"level_description": "   ", "child_age": 6}, "level_description"),
    ],
)
def test_create_session_rejects_bad_input_with_field_errors(api: APIClient, demo_levels: list[Level], payload, field):
    response = api.post("/api/sessions/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert ChatSession.objects.count() == 0


def test_create_session_rejects_a_body_that_is_not_json(api: APIClient) -> None:
    response = api.post("/api/sessions/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_list_and_retrieve_sessions(api: APIClient, session: ChatSession) -> None:
    listed = api.get("/api/sessions/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == str(session.id)
    assert "client_token" not in listed["results"][0]
    assert api.get(f"/api/sessions/{session.id}/").json()["child_age"] == 6


@pytest.mark.parametrize("path", ["/api/sessions/{}/", "/api/sessions/{}/messages/", "/api/sessions/{}/end_session/"])
def test_unknown_or_malformed_session_ids_are_404(api: APIClient, path: str) -> None:
    assert api.get(path.format(uuid.uuid4())).status_code in (404, 405)
    assert api.get(path.format("not-a-uuid")).status_code == 404
    assert api.post(path.format(uuid.uuid4())).status_code in (404, 405)


def test_end_session_marks_it_inactive(api: APIClient, session: ChatSession) -> None:
    response = api.post(f"/api/sessions/{session.id}/end_session/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    session.refresh_from_db()
    assert session.ended_at is not None


def test_delete_session_erases_it_and_its_messages(api: APIClient, session: ChatSession) -> None:
    message_create(session=session, sender="child", text="hello")
    assert api.delete(f"/api/sessions/{session.id}/").status_code == 204
    assert not ChatSession.objects.filter(pk=session.id).exists()
    assert ChatMessage.objects.count() == 0


def test_post_message_stores_both_turns_and_returns_the_offline_reply(api: APIClient, session: ChatSession) -> None:
    response = api.post(f"/api/sessions/{session.id}/messages/", {"content": "where is the key?"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["message"]["sender"] == "child"
    assert body["message"]["text"] == "where is the key?"
    assert body["reply"]["sender"] == "assistant"
    assert body["reply"]["mode"] == "offline"
    assert "blue" in body["reply"]["text"]
    stored = list(ChatMessage.objects.filter(session=session).values_list("sender", "text"))
    assert stored == [("child", "where is the key?"), ("assistant", body["reply"]["text"])]


@pytest.mark.parametrize("payload", [{}, {"content": ""}, {"content": "   "}, {"content": 5}, {"content": "x" * 2001}])
def test_post_message_rejects_bad_content_and_stores_nothing(api: APIClient, session: ChatSession, payload) -> None:
    response = api.post(f"/api/sessions/{session.id}/messages/", payload, format="json")
    assert response.status_code == 400
    assert "content" in response.json()
    assert ChatMessage.objects.count() == 0


def test_post_message_to_an_ended_session_is_refused(api: APIClient, session: ChatSession) -> None:
    api.post(f"/api/sessions/{session.id}/end_session/")
    response = api.post(f"/api/sessions/{session.id}/messages/", {"content": "hi"}, format="json")
    assert response.status_code == 409
    assert ChatMessage.objects.count() == 0


def test_session_messages_are_listed_in_order(api: APIClient, session: ChatSession) -> None:
    for text in ("one", "two", "three"):
        message_create(session=session, sender="child", text=text)
    body = api.get(f"/api/sessions/{session.id}/messages/").json()
    assert [m["text"] for m in body["results"]] == ["one", "two", "three"]


def test_history_returns_the_newest_messages_oldest_first(api: APIClient, session: ChatSession) -> None:
    for number in range(5):
        message_create(session=session, sender="child", text=f"m{number}")
    body = api.get("/api/history/", {"session_id": str(session.id), "limit": "3"}).json()
    assert body["count"] == 3
    assert [m["text"] for m in body["messages"]] == ["m2", "m3", "m4"]


@pytest.mark.parametrize(("limit", "expected"), [(0, 1), (-5, 1), (500, 200), (None, 50)])
def test_history_limit_is_clamped(api: APIClient, session: ChatSession, limit, expected) -> None:
    for number in range(210):
        ChatMessage(session=session, sender="child", text=f"m{number}").save()
    query: dict[str, Any] = {"session_id": str(session.id)} | ({} if limit is None else {"limit": limit})
    assert api.get("/api/history/", query).json()["count"] == expected


@pytest.mark.parametrize(
    ("query", "status"),
    [({}, 400), ({"session_id": "nope"}, 400), ({"session_id": str(uuid.uuid4())}, 404)],
)
def test_history_rejects_missing_malformed_and_unknown_sessions(api: APIClient, query, status) -> None:
    assert api.get("/api/history/", query).status_code == status


def test_history_rejects_a_limit_that_is_not_a_number(api: APIClient, session: ChatSession) -> None:
    response = api.get("/api/history/", {"session_id": str(session.id), "limit": "many"})
    assert response.status_code == 400
    assert "limit" in response.json()


def test_levels_crud(api: APIClient) -> None:
    level = {
        "slug": "moon-maze",
        "title": "Moon Maze",
        "description": "Find the way out.",
        "hints": [{"topic": "the exit", "examples": ["where is the exit"], "steps": ["Follow the stars.", "Go left."]}],
    }
    assert api.post("/api/levels/", level, format="json").status_code == 201
    hint = api.get("/api/levels/moon-maze/").json()["hints"][0]
    assert hint == {
        "topic": "the exit",
        "examples": ["where is the exit"],
        "steps": ["Follow the stars.", "Go left."],
        "text": "Follow the stars.",
    }
    assert api.patch("/api/levels/moon-maze/", {"title": "Moon Maze 2"}, format="json").json()["title"] == "Moon Maze 2"
    assert api.delete("/api/levels/moon-maze/").status_code == 204
    assert api.get("/api/levels/moon-maze/").status_code == 404


def test_a_hint_written_as_one_text_is_stored_as_a_one_step_ladder(api: APIClient) -> None:
    level = {"slug": "old", "title": "Old", "description": "d", "hints": [{"topic": "t", "text": "Look up."}]}
    assert api.post("/api/levels/", level, format="json").status_code == 201
    assert Level.objects.get(slug="old").hints == [{"topic": "t", "examples": [], "steps": ["Look up."]}]
    assert api.get("/api/levels/old/").json()["hints"][0]["steps"] == ["Look up."]


def test_a_level_read_from_the_api_can_be_written_back_unchanged(api: APIClient, castle: Level) -> None:
    body = api.get(f"/api/levels/{castle.slug}/").json()
    response = api.put(f"/api/levels/{castle.slug}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["hints"] == body["hints"]


@pytest.mark.parametrize(
    "hints",
    [
        "not a list",
        [{"topic": "", "text": "x"}],
        [{"topic": "t"}],
        [{"topic": "t", "text": "x", "examples": "not a list"}],
        [{"topic": "t", "text": "x", "examples": [""]}],
        [{"topic": "t", "steps": []}],
        [{"topic": "t", "steps": ["fine", ""]}],
        [{"topic": "t", "steps": "not a list"}],
        [{"topic": "t", "steps": ["a", "b"], "text": "not the first step"}],
        [{"topic": "t", "steps": [f"step {n}" for n in range(11)]}],
    ],
)
def test_levels_reject_malformed_hints(api: APIClient, hints) -> None:
    level = {"slug": "bad", "title": "Bad", "description": "d", "hints": hints}
    response = api.post("/api/levels/", level, format="json")
    assert response.status_code == 400
    assert "hints" in response.json()
    assert not Level.objects.filter(slug="bad").exists()


def test_a_clearly_heard_message_off_the_topic_is_steered_back(api: APIClient, session: ChatSession) -> None:
    response = api.post(f"/api/sessions/{session.id}/messages/", {"content": "purple submarine taxes"}, format="json")
    assert response.json()["reply"]["text"].startswith(BACK_TO_THE_GAME)


def test_a_typed_right_answer_is_confirmed_by_the_offline_tutor(api: APIClient, session: ChatSession) -> None:
    response = api.post(f"/api/sessions/{session.id}/messages/", {"content": "is it under the rug?"}, format="json")
    reply = response.json()["reply"]
    assert reply["text"] in RIGHT_ANSWER
    assert reply["flags"] == []


def test_schema_and_local_docs_are_served(api: APIClient) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/sessions/{id}/messages/" in schema.json()["paths"]
    docs = api.get("/api/docs/").content.decode()
    assert "swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
