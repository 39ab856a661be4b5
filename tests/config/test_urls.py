"""The schema, Swagger UI and Redoc need an API key unless API_DOCS_PUBLIC (the default in DEBUG only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["/api/schema/", "/api/docs/", "/api/docs/?script=", "/api/redoc/"]


@pytest.mark.parametrize("path", DOCS)
def test_the_api_docs_are_closed_without_a_key_when_debug_is_off(path: str) -> None:
    assert APIClient().get(path).status_code == 403


@pytest.mark.parametrize("path", DOCS)
def test_the_api_docs_open_with_a_key(api: APIClient, path: str) -> None:
    assert api.get(path).status_code == 200


def docs_permission(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "API_DOCS_PUBLIC", "DJANGO_SETTINGS_MODULE")}
    clean.update(env, DATABASE_URL="sqlite:///:memory:", SECRET_KEY="k" + "ey-for-the-docs-setting-test" * 3)
    code = "from config import settings; print(settings.SPECTACULAR_SETTINGS['SERVE_PERMISSIONS'][0])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_the_docs_are_open_in_debug_and_closed_in_production_unless_opened() -> None:
    assert docs_permission(DEBUG="true") == "rest_framework.permissions.AllowAny"
    assert docs_permission(DEBUG="false") == "audio_chat.api.permissions.GameBackendAccess"
    assert docs_permission(DEBUG="false", API_DOCS_PUBLIC="true") == "rest_framework.permissions.AllowAny"
    assert docs_permission(DEBUG="true", API_DOCS_PUBLIC="false") == "audio_chat.api.permissions.GameBackendAccess"
