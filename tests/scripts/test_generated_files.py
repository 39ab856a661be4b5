"""Generated files stay in sync with their sources: protocol.js, the Postman collection, the OpenAPI schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import generate_postman, generate_protocol_js

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_js_matches_the_python_protocol() -> None:
    assert generate_protocol_js.TARGET.read_text() == generate_protocol_js.render(), (
        "protocol.js is stale: run `make protocol-js`"
    )


@pytest.mark.django_db
def test_the_postman_collection_matches_the_openapi_schema() -> None:
    committed = json.loads(generate_postman.TARGET.read_text())
    assert committed == json.loads(generate_postman.render()), "the collection is stale: run `make postman`"
    assert committed["info"]["schema"].endswith("/v2.1.0/collection.json")
    folders = {folder["name"]: folder for folder in committed["item"]}
    assert {"sessions", "levels", "history", "health", "WebSocket messages"} <= set(folders)
    sent = [json.loads(item["request"]["body"]["raw"])["type"] for item in folders["WebSocket messages"]["item"]]
    assert sent == ["text", "audio_base64", "audio_end", "ping"]


def test_the_openapi_schema_builds_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "s.yaml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATABASE_URL": "sqlite:///:memory:"},
    )
    assert result.returncode == 0, result.stderr
