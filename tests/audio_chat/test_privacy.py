"""Privacy: erasing a session, retention, redacted storage, flags in the admin, and quiet logs."""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.services import message_create, session_create

pytestmark = pytest.mark.django_db


def test_erase_session_removes_the_session_its_messages_and_its_raw_audio(session: ChatSession, tmp_path: Path) -> None:
    message_create(session=session, sender="child", text="hello")
    recording = tmp_path / f"{session.pk}-1.pcm"
    recording.write_bytes(b"\x00\x00")
    with override_settings(AUDIO_ARCHIVE_DIR=str(tmp_path)):
        call_command("erase_session", str(session.pk), stdout=io.StringIO())
    assert not ChatSession.objects.exists() and not ChatMessage.objects.exists()
    assert not recording.exists()


@pytest.mark.parametrize("bad", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_erase_session_explains_a_bad_id(bad: str, db: None) -> None:
    with pytest.raises(CommandError):
        call_command("erase_session", bad)


def test_purge_removes_only_sessions_older_than_the_retention(castle: Level) -> None:
    old = session_create(child_age=6, level=castle)
    new = session_create(child_age=6, level=castle)
    message_create(session=old, sender="child", text="old words")
    ChatSession.objects.filter(pk=old.pk).update(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with override_settings(SESSION_RETENTION_DAYS=30):
        call_command("purge_sessions", stdout=io.StringIO())
    assert list(ChatSession.objects.values_list("pk", flat=True)) == [new.pk]
    assert not ChatMessage.objects.filter(text="old words").exists()


def test_typed_personal_details_are_stored_redacted(api: APIClient, session: ChatSession) -> None:
    api.post(f"/api/sessions/{session.id}/messages/", {"content": "my name is Lily, where is the key"}, format="json")
    assert ChatMessage.objects.filter(sender="child").get().text == "my name is [name], where is the key"


def test_a_flagged_reply_shows_in_the_admin(session: ChatSession) -> None:
    message_create(session=session, sender="assistant", text="It is under the blue rug!", flags=["gives_answer"])
    message_create(session=session, sender="assistant", text="Look around the kitchen.")
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/audio_chat/chatmessage/?flagged=yes").content.decode()
    assert "under the blue rug" in page and "Look around the kitchen" not in page


def test_logs_at_info_never_contain_what_the_child_said(api: APIClient, session: ChatSession, caplog) -> None:
    caplog.set_level(logging.INFO)
    api.post(f"/api/sessions/{session.id}/messages/", {"content": "purple elephant secret"}, format="json")
    api.post(f"/api/sessions/{session.id}/messages/", {"content": "where is the key"}, format="json")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "purple elephant secret" not in logged and "where is the key" not in logged
    assert "blue" not in logged


def test_check_deploy_is_clean_with_the_documented_production_settings() -> None:
    import os
    import subprocess
    import sys

    env = {
        "PATH": os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "helper.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
