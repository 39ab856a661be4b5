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
