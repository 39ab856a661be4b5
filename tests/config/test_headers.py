"""Every response carries a Content-Security-Policy and a Permissions-Policy; HSTS extras are opt-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def directives(header: str) -> dict[str, set[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: set(values) for name, *values in parts}


@pytest.mark.parametrize("path", ["/", "/api/health/", "/api/sessions/", "/admin/login/", "/static/audio_chat/demo.js"])
def test_every_response_carries_both_policies(path: str, demo_levels: object) -> None:
    response = Client().get(path)
    assert response.status_code in (200, 403)
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}, "no inline script, no eval, anywhere but the API docs"
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["object-src"] == {"'none'"}
    permissions = response["Permissions-Policy"]
    assert "microphone=(self)" in permissions
    assert "camera=()" in permissions and "geolocation=()" in permissions


def test_only_redoc_widens_the_policy_for_itself(api: APIClient) -> None:
    redoc = directives(api.get("/api/redoc/")["Content-Security-Policy"])
    assert "blob:" in redoc["worker-src"]
    swagger = directives(api.get("/api/docs/")["Content-Security-Policy"])
    assert swagger["script-src"] == {"'self'"}, "Swagger UI loads its start script from a URL"


def hsts_header(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SECURE_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update(env, DEBUG="false", DATABASE_URL="sqlite:///:memory:", ALLOWED_HOSTS="testserver")
    clean["SECRET_KEY"] = "a-real-secret-for-the-hsts-test-0123456789-abcdefghijklmnop"
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/api/health/', secure=True).headers.get('Strict-Transport-Security'))"
    )
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_hsts_subdomains_and_preload_are_opt_in() -> None:
    assert hsts_header() == "max-age=31536000"
    opted = hsts_header(SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true")
    assert opted == "max-age=31536000; includeSubDomains; preload"
