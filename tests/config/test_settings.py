"""Settings refuse to start in production without a real secret key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    clean.update(env, DATABASE_URL="sqlite:///:memory:", DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "secret", ["", "django-insecure-abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop", "short", "x" * 60]
)
def test_debug_off_refuses_to_start_without_a_real_secret_key(secret: str) -> None:
    result = run_check(DEBUG="false", SECRET_KEY=secret)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_starts_with_a_real_secret_key() -> None:
    result = run_check(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr


def test_debug_on_starts_without_a_secret_key() -> None:
    assert run_check(DEBUG="true").returncode == 0
