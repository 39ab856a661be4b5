"""/api/health/ tells the truth about the offline engine: degraded when its workers are gone or a turn was late."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from audio_chat import health
from voice.speech.stt import shared_decoder_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    health._last_probe = None
    yield
    health._last_probe = None


def _wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():  # type: ignore[operator]
        time.sleep(0.1)


@override_settings(STT_DECODERS=1, ENGINE_PROBE_SECONDS=0.0)
def test_health_turns_degraded_when_the_recognition_workers_are_killed(fresh_probe: None) -> None:
    pool = shared_decoder_pool(1)
    try:
        assert APIClient().get("/api/health/").json()["offline_engine"] == "ok"
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: not pool.workers_alive() or not pool.worker_pids())
        response = APIClient().get("/api/health/")
        assert response.status_code == 503
        assert response.json()["status"] == "degraded"
        assert response.json()["offline_engine"].startswith("error:")
    finally:
        pool.close()


@override_settings(STT_DECODERS=1, ENGINE_PROBE_SECONDS=60.0)
def test_health_turns_degraded_after_a_turn_that_was_not_transcribed_in_time(fresh_probe: None) -> None:
    pool = shared_decoder_pool(1)
    try:
        assert APIClient().get("/api/health/").json()["status"] == "ok"
        pool.record_failure("a final transcript took 4.2 s")
        body = APIClient().get("/api/health/").json()
        assert body["status"] == "degraded"
        assert body["offline_engine"] == "error: a final transcript took 4.2 s"
    finally:
        pool._failures.clear()
        pool.close()
