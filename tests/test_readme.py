"""A newcomer's first hour, scripted: in a fresh copy of the checkout, the Makefile's run recipe serves, and the
README's developer commands, curl flow and terminal client run exactly as written and succeed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port, stop, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCUMENTED_URL = "http://127.0.0.1:8000"
BASH = shutil.which("bash") or "/bin/bash"
GIT = shutil.which("git") or "/usr/bin/git"

pytestmark = pytest.mark.timeout(300)


def readme_block(heading: str, index: int = 0) -> str:
    """The bash code block number ``index`` under the README's ``## heading``."""
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks: list[str] = re.findall(r"```bash\n(.*?)```", section, re.S)
    return blocks[index]


def make_recipe(target: str) -> list[str]:
    """The shell commands of a Makefile target, continuation lines joined, as make would run them here."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    commands = [line.strip().lstrip("@") for line in recipe if line.startswith("\t")]
    return [command.replace("$(BIN)", ".venv/bin").replace("$$", "$") for command in commands]


def fresh_checkout(destination: Path) -> Path:
    """The files git would check out (tracked, and new ones not ignored), nothing generated; in a git repository
    of its own, so that what the commands leave behind shows up in ``git status``."""
    listed = subprocess.run(
        [GIT, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git = [GIT, "-c", "user.name=newcomer", "-c", "user.email=newcomer@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=destination, check=True)
    subprocess.run([*git, "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "fresh checkout"], cwd=destination, check=True)
    # `make run` would create .venv/ here; the one running these tests has the same packages.
    (destination / ".venv").symlink_to(Path(sys.prefix))
    return destination


@dataclass
class Checkout:
    path: Path
    base_url: str
    env: dict[str, str]

    def run(self, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A README block as bash runs it, on this checkout's server instead of port 8000."""
        script = script.replace(DOCUMENTED_URL, self.base_url)
        return subprocess.run(
            [BASH, "-euo", "pipefail", "-c", script],
            cwd=self.path, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip


def newcomer_environment(checkout: Path, base_url: str) -> dict[str, str]:
    """A shell with nothing set up: no settings, no key, no database URL; only where Python finds this code."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CI"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env["PYTHONPATH"] = str(checkout)  # the shared virtualenv's editable install points elsewhere
    env["AUDIO_CHAT_URL"] = base_url  # the talk client's address, as the curl commands' is rewritten
    return env


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    if shutil.which("git") is None or shutil.which("espeak-ng") is None:
        message = "git and espeak-ng are needed: apt-get install git espeak-ng (make test installs espeak-ng)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    path = fresh_checkout(tmp_path_factory.mktemp("newcomer"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = newcomer_environment(path, base_url)
    *setup, serve = make_recipe("run")
    log = (path.parent / "server.log").open("w")
    for command in setup:
        if command.startswith("echo"):
            continue
        subprocess.run([BASH, "-euc", command], cwd=path, env=env, check=True, stdout=log, stderr=log, timeout=120)
    serve = serve.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", str(port))
    server = subprocess.Popen([BASH, "-c", serve], cwd=path, env=env, stdout=log, stderr=log)  # bash execs it
    try:
        wait_for_http(f"{base_url}/api/health/", process=server)
        yield Checkout(path, base_url, env)
    finally:
        stop(server)


def test_the_api_key_command_and_the_curl_flow_work_as_written(checkout: Checkout) -> None:
    result = checkout.run(readme_block("Using the API"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"status":"ok"' in out, "health"
    assert '"client_token"' in out, "a session was created with the printed key"
    assert '"reply":' in out and "Look for something blue" in out, "the typed message was answered"
    assert '"messages":' in out, "history"


def run_the_terminal_calls(checkout: Checkout) -> None:
    result = checkout.run(readme_block("Talking from a terminal"))
    assert result.returncode == 0, result.stderr
    said, recorded, typed = result.stdout.split("[offline")[1:]
    assert "child:  how do i open the red door" in said.lower()  # Whisper capitalises and punctuates
    assert "helper: The red door needs a key." in said
    assert "child:  " in recorded and "helper: " in recorded, "the WAV was heard and answered"
    assert "helper: Look for something blue" in typed
    with wave.open(str(checkout.path / "reply.wav")) as reply:
        assert reply.getframerate() == 24_000
        assert reply.getnframes() > 24_000, "at least a second of the helper's voice"


def test_the_documented_terminal_calls_work_as_written(checkout: Checkout) -> None:
    run_the_terminal_calls(checkout)


def test_the_developer_commands_work_outside_make_run(checkout: Checkout) -> None:
    restore = readme_block("Developer commands, keys and the admin").splitlines()[1]
    assert "load_demo_levels --reset" in restore
    result = checkout.run(restore.split("#")[0])
    assert result.returncode == 0, result.stderr
    assert "Demo levels:" in result.stdout
    superuser = readme_block("Developer commands, keys and the admin").splitlines()[0].split("#")[0]
    assert superuser.strip() == "DEBUG=true .venv/bin/python manage.py createsuperuser"
    noninteractive = f"DJANGO_SUPERUSER_PASSWORD=pw {superuser} --noinput --username admin --email a@example.com"
    assert checkout.run(noninteractive).returncode == 0


def test_a_missing_secret_key_is_still_refused_without_debug(checkout: Checkout) -> None:
    result = checkout.run(".venv/bin/python manage.py check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_commands_leave_the_checkout_clean(checkout: Checkout) -> None:
    run_the_terminal_calls(checkout)  # the service is still running: its database's -wal and -shm files exist
    status = subprocess.run(
        [GIT, "status", "--porcelain"], cwd=checkout.path, check=True, capture_output=True, text=True
    ).stdout
    assert status == "", f"files the README's commands leave behind must be ignored: {status}"
