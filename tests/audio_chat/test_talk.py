"""The command-line client's WAV input."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio_chat.talk import read_wav_as_16k_mono
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
