"""Erasing a session leaves none of its text in the SQLite files: neither the database nor its write-ahead log."""

from __future__ import annotations

import uuid

from tests.conftest import RunningService


def test_an_erased_sessions_text_is_in_neither_the_database_nor_the_wal(running_service: RunningService) -> None:
    secret = f"Zanzibar-{uuid.uuid4().hex}"
    status, session = running_service.request(
        "POST", "/api/sessions/", {"child_age": 7, "level_description": f"level {secret}", "initial_message": secret}
    )
    assert status == 201
    for turn in range(3):
        status, _ = running_service.request(
            "POST", f"/api/sessions/{session['id']}/messages/", {"content": f"my password is {secret} {turn}"}
        )
        assert status == 201
    database = running_service.folder / "db.sqlite3"
    wal = running_service.folder / "db.sqlite3-wal"
    stored = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert secret.encode() in stored, "the text was stored before the erasure"

    status, _ = running_service.request("DELETE", f"/api/sessions/{session['id']}/")
    assert status == 204

    assert secret.encode() not in database.read_bytes()
    assert not wal.exists() or secret.encode() not in wal.read_bytes()
