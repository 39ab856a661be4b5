"""The admin: a session's transcript in order, and a session list a person can find their way in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audio_chat.models import ChatSession, Level
from audio_chat.services import message_create, session_create

pytestmark = pytest.mark.django_db


def test_a_sessions_transcript_is_readable_in_order(session: ChatSession) -> None:
    for sender, text in [("child", "first words"), ("assistant", "second words"), ("child", "third words")]:
        message_create(session=session, sender=sender, text=text)
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/audio_chat/chatsession/{session.id}/change/").content.decode()
    assert page.index("first words") < page.index("second words") < page.index("third words")


@pytest.mark.parametrize("model", ["level", "chatsession", "chatmessage"])
def test_every_model_has_an_admin_list(model: str, demo_levels) -> None:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(admin)
    assert client.get(f"/admin/audio_chat/{model}/").status_code == 200


def test_the_admin_login_locks_an_address_out_after_repeated_wrong_passwords() -> None:
    User.objects.create_superuser("admin", "admin@example.com", "the-right-password")
    client = Client()
    answers = [
        client.post("/admin/login/", {"username": "admin", "password": f"wrong-{attempt}"}).status_code
        for attempt in range(30)
    ]
    assert answers[0] == 200, "a wrong password first shows the login form again"
    assert answers[-1] == 429, f"then the address is locked out: {answers}"
    locked = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "the-right-password"})
    assert locked.status_code == 429, "even the right password is refused while locked out"
    assert "_auth_user_id" not in client.session


def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_the_session_list_shows_level_age_start_message_count_and_mode(session: ChatSession) -> None:
    message_create(session=session, sender="child", text="Where is the key?")
    message_create(session=session, sender="assistant", text="Look under the rug.", mode="offline")
    message_create(session=session, sender="child", text="Thanks")
    page = admin_client().get("/admin/audio_chat/chatsession/").content.decode()
    row = page[page.index(str(session.id)[:8]) :]
    row = row[: row.index("</tr>")]
    assert session.level is not None and session.level.title in row
    assert '<td class="field-child_age">6</td>' in row
    assert '<td class="field-message_count">3</td>' in row
    assert '<td class="field-helper_mode">Offline</td>' in row
    assert 'class="field-created_at' in row


def test_the_session_list_filters_by_mode_and_searches_by_level(session: ChatSession, demo_levels) -> None:
    quiet = session_create(child_age=8, level=Level.objects.get(slug="cloud-jump"))
    message_create(session=session, sender="assistant", text="A hint.", mode="live")
    client = admin_client()
    live = client.get("/admin/audio_chat/chatsession/?mode=live").content.decode()
    assert str(session.id)[:8] in live and str(quiet.id)[:8] not in live
    found = client.get("/admin/audio_chat/chatsession/?q=cloud").content.decode()
    assert str(quiet.id)[:8] in found and str(session.id)[:8] not in found
