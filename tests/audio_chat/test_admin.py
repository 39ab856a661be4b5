"""The admin shows a session's transcript in order."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audio_chat.models import ChatSession
from audio_chat.services import message_create

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
