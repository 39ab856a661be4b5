"""REST for the game-aware helper: screenshots and game state, their bad input, access, keeping and erasing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from audio_chat.models import ChatMessage, ChatSession
from audio_chat.services import session_create
from audio_chat.tokens import issue_client_token
from tests.images import ARTIST, NOT_AN_IMAGE, png_bomb, screenshot

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "screen.jpg") -> dict[str, SimpleUploadedFile]:
    return {"image": SimpleUploadedFile(name, data, content_type="application/octet-stream")}


def post_screenshot(client: APIClient, session: ChatSession, data: bytes) -> Any:
    return client.post(f"/api/sessions/{session.id}/screenshot/", upload(data), format="multipart")


@pytest.fixture
def kept_dir(tmp_path: Path):
    with override_settings(IMAGE_ARCHIVE_DIR=str(tmp_path)):
        yield tmp_path


def test_a_screenshot_is_accepted_and_downscaled(api, session) -> None:
    response = post_screenshot(api, session, screenshot((1600, 900)))
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["width"], body["height"], body["mime_type"]) == (1024, 576, "image/jpeg")
    assert 0 < body["bytes"] < 200_000


def test_the_session_client_may_post_its_own_screenshot_but_not_another_sessions(session, castle) -> None:
    token = issue_client_token(str(session.id))[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert post_screenshot(client, session, screenshot((200, 100))).status_code == 202
    other = session_create(child_age=7, level=castle)
    assert post_screenshot(client, other, screenshot((200, 100))).status_code in (401, 403)


def test_a_file_that_is_not_an_image_is_a_400_and_nothing_is_kept(api, session, kept_dir) -> None:
    response = post_screenshot(api, session, NOT_AN_IMAGE)
    assert response.status_code == 400
    assert "not a JPEG, PNG or WebP" in response.json()["image"][0]
    assert list(kept_dir.iterdir()) == []


def test_a_decompression_bomb_is_a_413_and_nothing_is_kept(api, session, kept_dir) -> None:
    response = post_screenshot(api, session, png_bomb())
    assert response.status_code == 413
    assert "pixels" in response.json()["detail"]
    assert list(kept_dir.iterdir()) == []


def test_a_30_mb_upload_is_a_413_and_nothing_is_kept(api, session, kept_dir) -> None:
    response = post_screenshot(api, session, b"\xff\xd8\xff" + bytes(30 * 1024 * 1024))
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert list(kept_dir.iterdir()) == []


def test_a_request_without_a_file_is_a_400(api, session) -> None:
    response = api.post(f"/api/sessions/{session.id}/screenshot/", {}, format="multipart")
    assert response.status_code == 400
    assert "image" in response.json()


def test_an_ended_session_takes_no_screenshot(api, session) -> None:
    api.post(f"/api/sessions/{session.id}/end_session/")
    assert post_screenshot(api, session, screenshot((100, 100))).status_code == 409


@override_settings(IMAGES_PER_MINUTE=1)
def test_screenshots_over_the_session_rate_are_a_429(api, session) -> None:
    assert post_screenshot(api, session, screenshot((100, 100))).status_code == 202
    response = post_screenshot(api, session, screenshot((100, 100)))
    assert response.status_code == 429


def test_kept_pictures_are_stripped_and_erased_with_the_session(api, session, castle, kept_dir) -> None:
    other = session_create(child_age=7, level=castle)
    assert post_screenshot(api, session, screenshot((300, 200))).status_code == 202
    assert post_screenshot(api, other, screenshot((300, 200))).status_code == 202
    (mine,) = kept_dir.glob(f"{session.id}-*.jpg")
    assert ARTIST not in Image.open(io.BytesIO(mine.read_bytes())).getexif()
    assert api.delete(f"/api/sessions/{session.id}/").status_code == 204
    assert list(kept_dir.glob(f"{session.id}-*")) == []
    assert len(list(kept_dir.glob(f"{other.id}-*"))) == 1, "another session's picture stays"


def test_game_state_is_validated_kept_and_shown_with_the_session(api, session) -> None:
    state = {"step": "red door", "items": ["lamp"], "attempts": 2}
    response = api.post(f"/api/sessions/{session.id}/game_state/", {"state": state}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["game_state"] == state
    shown = api.get(f"/api/sessions/{session.id}/").json()
    assert shown["game_state"] == state and shown["game_state_updated_at"]


@pytest.mark.parametrize("state", [[1, 2], {"deep": {"er": 1}}, {"items": list(range(50))}, "step 3"])
def test_a_bad_game_state_is_a_400_and_nothing_is_kept(api, session, state) -> None:
    response = api.post(f"/api/sessions/{session.id}/game_state/", {"state": state}, format="json")
    assert response.status_code == 400
    assert "state" in response.json()
    session.refresh_from_db()
    assert session.game_state is None


def test_tool_turns_are_listed_as_such_with_the_call_and_its_answer(api, session) -> None:
    ChatMessage.objects.create(
        session=session,
        sender="tool",
        message_type="tool_call",
        text="The red door needs a key.",
        tool={"name": "get_hint", "arguments": {"topic": "door"}, "result": {"hint": "The red door needs a key."}},
    )
    (row,) = api.get(f"/api/sessions/{session.id}/messages/").json()["results"]
    assert (row["sender"], row["message_type"]) == ("tool", "tool_call")
    assert row["tool"]["name"] == "get_hint"
