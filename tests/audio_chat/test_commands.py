"""Management commands: the demo catalog, API keys and the engine check."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from rest_framework_api_key.models import APIKey

from audio_chat.models import Level

pytestmark = pytest.mark.django_db


def test_loading_the_demo_catalog_twice_leaves_one_copy_with_hints() -> None:
    call_command("load_demo_levels", stdout=io.StringIO())
    call_command("load_demo_levels", stdout=io.StringIO())
    assert 3 <= Level.objects.count() <= 4
    assert all(level.hints and all(h["examples"] for h in level.hints) for level in Level.objects.all())


def test_loading_the_demo_catalog_keeps_an_edited_level_and_says_so() -> None:
    call_command("load_demo_levels", stdout=io.StringIO())
    Level.objects.filter(slug="cloud-jump").update(title="My cloud level")
    Level.objects.filter(slug="castle-red-door").delete()
    out = io.StringIO()
    call_command("load_demo_levels", stdout=out)
    assert Level.objects.get(slug="cloud-jump").title == "My cloud level"
    assert Level.objects.filter(slug="castle-red-door").exists(), "a missing demo level is created again"
    assert "1 created" in out.getvalue()
    assert "kept as they are (cloud-jump;" in out.getvalue()


def test_loading_the_demo_catalog_with_reset_restores_an_edited_level() -> None:
    call_command("load_demo_levels", stdout=io.StringIO())
    Level.objects.filter(slug="cloud-jump").update(title="My cloud level")
    out = io.StringIO()
    call_command("load_demo_levels", "--reset", stdout=out)
    assert Level.objects.get(slug="cloud-jump").title == "Cloud Jump"
    assert "1 reset to the catalog (cloud-jump)" in out.getvalue()


def test_create_api_key_prints_a_working_key() -> None:
    out = io.StringIO()
    call_command("create_api_key", "studio backend", stdout=out)
    assert APIKey.objects.is_valid(out.getvalue().strip())


def test_check_engine_loads_the_embedding_model() -> None:
    out = io.StringIO()
    call_command("check_engine", stdout=out)
    assert "Offline engine ready" in out.getvalue()


def test_erase_and_purge_leave_no_text_in_the_sqlite_files_of_a_running_server(running_service) -> None:
    from tests.processes import manage

    secrets = {}
    for command in ("erase", "purge"):
        secret = f"Quokka-{command}-{uuid.uuid4().hex}"
        status, session = running_service.request(
            "POST", "/api/sessions/", {"child_age": 6, "level_description": "x", "initial_message": secret}
        )
        assert status == 201
        status, _ = running_service.request(
            "POST", f"/api/sessions/{session['id']}/messages/", {"content": f"the secret is {secret}"}
        )
        assert status == 201
        secrets[command] = (session["id"], secret.encode())
    files = [running_service.folder / "db.sqlite3", running_service.folder / "db.sqlite3-wal"]

    def stored() -> bytes:
        return b"".join(path.read_bytes() for path in files if path.exists())

    assert all(secret in stored() for _, secret in secrets.values())
    manage(running_service.folder, "erase_session", secrets["erase"][0])
    assert secrets["erase"][1] not in stored()
    assert secrets["purge"][1] in stored(), "erase_session erased one session only"
    manage(running_service.folder, "purge_sessions", "--days", "0")
    assert secrets["purge"][1] not in stored()
