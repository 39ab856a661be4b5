"""Installing the project's wheel the ordinary way, in a fresh virtualenv, gives a service whose offline brain answers.

Slow (pip fetches every dependency from the package index, a few minutes with a cold cache), and the only test
that installs anything: it is how we know that `pip install` of what we ship works outside this checkout.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voice.brains.offline import MODEL_NAME, RIGHT_ANSWER
from voice.speech.embeddings import INSTALL_MODEL_COMMAND

ROOT = Path(__file__).parents[1]
SHIPPED = ("config", "audio_chat", "voice", "gemini_emulator", "pyproject.toml", "README.md")

# What a game studio's deployment does after `pip install`: migrate, load levels, create a session over REST,
# and type a question to it.
TYPED_QUESTION = """
import json

import django

django.setup()
from django.core.management import call_command
from django.test import Client
from rest_framework_api_key.models import APIKey

call_command("migrate", verbosity=0)
call_command("load_demo_levels", verbosity=0)
_, key = APIKey.objects.create_key(name="install test")
client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
level = {"level": "counting-garden", "child_age": 6}
session = client.post("/api/sessions/", level, content_type="application/json", secure=True).json()
question = {"content": "is it seven?"}
exchange = client.post(
    f"/api/sessions/{session['id']}/messages/", question, content_type="application/json", secure=True
)
print(json.dumps(exchange.json()["reply"]))
"""


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{shlex.join(result.args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.timeout(1800)
def test_a_plain_install_of_the_wheel_names_the_one_command_then_answers_offline(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so that building leaves nothing behind in the checkout
    source.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    checked(run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], cwd=tmp_path))
    [wheel] = dist.glob("audio_chat-*.whl")
    checked(run([sys.executable, "-m", "venv", str(tmp_path / "venv")], cwd=tmp_path))
    bin_dir = tmp_path / "venv" / "bin"
    checked(run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path))

    # A production-like environment, outside the checkout: nothing of this repository is importable.
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "BRAIN_MODE": "offline",
    }
    python = str(bin_dir / "python")
    without_model = run([python, "-m", "django", "check"], cwd=tmp_path, env=env)
    assert without_model.returncode != 0
    assert INSTALL_MODEL_COMMAND in without_model.stderr, without_model.stderr
    asgi = run([python, "-c", "import config.asgi"], cwd=tmp_path, env=env)
    assert asgi.returncode != 0
    assert INSTALL_MODEL_COMMAND in asgi.stderr, asgi.stderr

    checked(run(shlex.split(INSTALL_MODEL_COMMAND), cwd=tmp_path, env=env))
    checked(run([python, "-m", "django", "check"], cwd=tmp_path, env=env))
    reply = json.loads(checked(run([python, "-c", TYPED_QUESTION], cwd=tmp_path, env=env)).stdout.splitlines()[-1])
    assert (reply["mode"], reply["model"]) == ("offline", MODEL_NAME)
    assert reply["text"] in RIGHT_ANSWER, "the hint brain recognised the right answer"
    no_torch = "import importlib.util as u; print(u.find_spec('torch'), u.find_spec('sentence_transformers'))"
    assert checked(run([python, "-c", no_torch], cwd=tmp_path, env=env)).stdout.strip() == "None None"
