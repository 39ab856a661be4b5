"""The command-line client: its WAV input and how it reports failures."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio_chat.talk import (
    ReplyRecording,
    game_state_message,
    image_message,
    main,
    read_wav_as_16k_mono,
    server_message,
)
from tests.processes import free_port
from tests.speech import rms, spoken_question


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int, width: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (44100, 2), (48000, 1)])
def test_any_rate_and_channel_count_becomes_16_khz_mono(tmp_path: Path, rate: int, channels: int) -> None:
    tone = (np.sin(np.arange(rate) / rate * 2 * np.pi * 440) * 12000).astype("<i2")
    write_wav(tmp_path / "in.wav", np.repeat(tone, channels), rate, channels, 2)
    pcm = read_wav_as_16k_mono(tmp_path / "in.wav")
    out = np.frombuffer(pcm, "<i2")
    assert abs(len(out) - 16000) <= 2
    expected_rms = 12000 / 32768 / np.sqrt(2)  # a sine of that amplitude, kept through resampling and downmix
    assert abs(np.sqrt(np.mean((out / 32768.0) ** 2)) - expected_rms) < 0.02


def test_24_bit_wav_is_refused_clearly(tmp_path: Path) -> None:
    write_wav(tmp_path / "in.wav", np.zeros(300, np.uint8), 16000, 1, 3)
    with pytest.raises(SystemExit, match="24-bit"):
        read_wav_as_16k_mono(tmp_path / "in.wav")


class RefusingHandler(http.server.BaseHTTPRequestHandler):
    """Refuses every request the way the REST API refuses a missing key."""

    def do_POST(self) -> None:
        body = json.dumps({"detail": "An API key is required."}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_http_error_prints_the_servers_message_in_one_line_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RefusingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(sys, "argv", ["talk", "--text", "hi", "--api-key", "wrong", "--base-url", base_url])
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        server.shutdown()
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert error == f"error: POST {base_url}/api/sessions/ failed: HTTP 403: An API key is required.\n"


def test_an_unreachable_service_is_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["talk", "--text", "hi", "--base-url", f"http://127.0.0.1:{free_port()}"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is the service running? make run" in error


def test_field_errors_are_named_with_their_messages() -> None:
    body = json.dumps({"level": ["Object with slug=nope does not exist."], "child_age": ["Too young."]}).encode()
    assert server_message(body) == "level: Object with slug=nope does not exist.; child_age: Too young."


def test_an_interrupted_reply_is_written_only_up_to_where_it_was_played() -> None:
    reply = ReplyRecording()
    reply.audio(b"\x01\x00" * 4800)  # 0.2 s arrived ahead of playback
    reply.audio(b"\x02\x00" * 4800)
    reply.interrupted({"type": "interrupted", "played_samples": 6000})
    reply.audio(b"\x03\x00" * 100)  # late audio of the cut reply is never heard
    reply.turn_complete()
    assert bytes(reply.pcm) == b"\x01\x00" * 4800 + b"\x02\x00" * 1200
    reply.audio(b"\x04\x00" * 10)  # the next reply is kept whole
    reply.interrupted({"type": "interrupted", "played_samples": 5})
    assert bytes(reply.pcm) == b"\x01\x00" * 4800 + b"\x02\x00" * 1200 + b"\x04\x00" * 5


def test_an_interrupted_without_a_position_keeps_what_arrived() -> None:
    reply = ReplyRecording()
    reply.audio(b"\x01\x00" * 10)
    reply.interrupted({"type": "interrupted"})
    reply.audio(b"\x02\x00" * 10)
    assert bytes(reply.pcm) == b"\x01\x00" * 10


def test_an_image_becomes_an_image_message_with_the_files_bytes(tmp_path: Path) -> None:
    (tmp_path / "screen.png").write_bytes(b"\x89PNG a picture")
    message = json.loads(image_message(tmp_path / "screen.png"))
    assert message["type"] == "image"
    assert base64.b64decode(message["content"]) == b"\x89PNG a picture"


def test_a_missing_image_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="No such file"):
        image_message(tmp_path / "missing.png")


def test_the_game_state_must_be_a_json_object() -> None:
    assert game_state_message('{"step": "door"}') == '{"type": "game_state", "state": {"step": "door"}}'
    with pytest.raises(SystemExit, match="JSON object"):
        game_state_message("[1, 2]")
    with pytest.raises(SystemExit, match="not JSON"):
        game_state_message("{step")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service in its own process, and a game-backend API key for it."""
    from tests.e2e.conftest import ROOT, start_service
    from tests.processes import stop

    tmp = tmp_path_factory.mktemp("talk")
    running, process = start_service(tmp, {})
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "GEMINI_API_KEY": ""}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    command = [sys.executable, "manage.py", "create_api_key", "talk test"]
    key = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()
    yield running.base_url, key
    stop(process)


async def test_the_cli_speaks_and_hears_opus(service: tuple[str, str], tmp_path: Path) -> None:
    base_url, api_key = service
    question = await spoken_question("How do I open the red door?")
    write_wav(tmp_path / "question.wav", np.frombuffer(question, "<i2"), 16000, 1, 2)
    command = [sys.executable, "-m", "audio_chat.talk", "--base-url", base_url, "--api-key", api_key, "--codec", "opus"]
    command += ["--wav", str(tmp_path / "question.wav"), "--out", str(tmp_path / "reply.wav")]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "· opus]" in done.stdout
    heard = next(line for line in done.stdout.splitlines() if line.startswith("child:"))
    assert "door" in heard.lower(), heard
    with wave.open(str(tmp_path / "reply.wav")) as reply:
        voice = reply.readframes(reply.getnframes())
        assert reply.getframerate() == 24_000
    assert len(voice) / 2 / 24_000 > 1.0, "the helper's spoken reply, decoded from Opus"
    assert rms(voice) > 0.02
    received = int(re.search(r"\((\d+) bytes received\)", done.stderr).group(1))  # type: ignore[union-attr]
    assert received < len(voice) / 5, "Opus packets, not PCM, came over the wire"
