"""Browser-test fixtures: the service (and the Gemini emulator) in real processes, and headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.processes import free_port, stop, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
]


def chromium_or_skip() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        message = "Chromium is missing: apt-get install chromium (make test does this as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Service:
    base_url: str
    archive: Path
    emulator_url: str = ""
    emulator_ca: str = ""


def start_service(tmp: Path, extra_env: dict[str, str]) -> tuple[Service, subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "AUDIO_ARCHIVE_DIR": str(tmp / "uplink"),
        "GEMINI_API_KEY": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra_env,
    }
    for command in (["migrate", "--noinput", "-v0"], ["load_demo_levels"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for_http(f"http://127.0.0.1:{port}/api/health/")
    return Service(f"http://127.0.0.1:{port}", tmp / "uplink"), process


@pytest.fixture(scope="module")
def offline_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service, process = start_service(tmp_path_factory.mktemp("offline"), {})
    yield service
    stop(process)


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("live")
    emulator = subprocess.Popen(
        [sys.executable, "-m", "gemini_emulator", "--responder", "engine", "--api-key", "e2e-key"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=(tmp / "emulator.log").open("wb"),
    )  # fmt: skip
    assert emulator.stdout is not None
    found = json.loads(emulator.stdout.readline())
    env = {
        "GEMINI_API_KEY": "e2e-key",
        "GEMINI_BASE_URL": found["base_url"],
        "GEMINI_CA_FILE": found["ca_file"],
        "LIVE_MODELS": "gemini-2.5-flash-native-audio-preview-09-2025",
        "TEXT_MODELS": "gemini-3.5-flash",
    }
    service, process = start_service(tmp, env)
    service.emulator_url, service.emulator_ca = found["base_url"], found["ca_file"]
    yield service
    stop(process)
    stop(emulator)


def write_wav(path: Path, pcm16k: bytes) -> Path:
    """16 kHz speech as a 48 kHz 16-bit mono WAV: what Chromium's fake capture device plays."""
    from voice.audio import float_to_pcm16, pcm16_to_float, resample

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        wav.writeframes(float_to_pcm16(resample(pcm16_to_float(pcm16k), 16_000, 48_000)))
    return path


def _best_aligned_correlation(reference: np.ndarray, window: np.ndarray) -> float:
    padded = np.concatenate([np.zeros(len(window)), reference, np.zeros(len(window))])
    size = 1 << int(np.ceil(np.log2(len(window) + len(padded))))
    scores = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(window, size)), size)
    lag = int(np.argmax(scores[: len(padded) - len(window) + 1]))
    return float(np.corrcoef(padded[lag : lag + len(window)], window)[0, 1])


def window_correlations(source16k: bytes, received16k: bytes, window_seconds: float = 0.25) -> list[float]:
    """For each quarter-second window of speech in the received audio, the Pearson correlation with the
    best-aligned stretch of the source. Windows align on their own, so a render quantum dropped by a busy
    machine costs one window, not the whole comparison."""
    reference = np.frombuffer(source16k, "<i2").astype(np.float64)
    received = np.frombuffer(received16k, "<i2").astype(np.float64)[1600:]  # skip the filter's start-up
    size = int(window_seconds * 16_000)
    loud = 0.1 * np.sqrt(np.mean(reference**2)) * 3
    scores = [
        _best_aligned_correlation(reference, received[start : start + size])
        for start in range(0, len(received) - size, size)
        if np.sqrt(np.mean(received[start : start + size] ** 2)) > loud
    ]
    return scores


def correlation(source16k: bytes, received16k: bytes) -> float:
    """How faithfully the received audio reproduces the source: the median window correlation."""
    scores = window_correlations(source16k, received16k)
    return float(np.median(scores)) if scores else 0.0


@pytest.fixture
async def browser_for() -> AsyncIterator[Any]:
    """``await browser_for(wav_path)``: a new Chromium whose microphone plays that WAV once."""
    executable = chromium_or_skip()
    from playwright.async_api import ViewportSize, async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browsers: list[Any] = []

        async def launch(wav: Path, viewport: dict[str, int] | None = None) -> Any:
            browser = await playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}%noloop"],
            )
            browsers.append(browser)
            size = viewport or {"width": 900, "height": 900}
            context = await browser.new_context(viewport=ViewportSize(width=size["width"], height=size["height"]))
            page = await context.new_page()
            page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
            return page

        yield launch
        for browser in browsers:
            await browser.close()
