"""/api/health/ tells the truth: degraded when the offline engine's workers are gone or a turn was late, overloaded
when no worker on the machine takes a new child."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from audio_chat import health
from audio_chat.load import publish, withdraw
from voice.load import LoadMonitor, LoadSettings
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


# --- Load: a load balancer stops sending new children once no worker on the machine takes one ------------------


@pytest.fixture
def this_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoadMonitor]:
    monitor = LoadMonitor(LoadSettings(max_connections=1))
    monkeypatch.setattr(health, "worker_load", lambda: monitor)
    cache.clear()
    yield monitor
    cache.clear()


def other_worker(pid: int, *, overloaded: bool) -> None:
    monitor = LoadMonitor(LoadSettings(max_connections=1))
    if overloaded:
        monitor.connection_opened()
    publish(monitor.report(), pid=pid)


def test_health_reports_this_workers_load(this_worker: LoadMonitor) -> None:
    response = APIClient().get("/api/health/")
    assert response.status_code == 200
    assert response.json()["load"] == {
        "accepting": True,
        "overloaded_workers": 0,
        "workers": [{**this_worker.report().as_dict(), "pid": os.getpid()}],
    }


def test_health_answers_503_overloaded_while_the_only_worker_is_overloaded(this_worker: LoadMonitor) -> None:
    this_worker.connection_opened()
    response = APIClient().get("/api/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "overloaded"
    assert response.json()["load"]["accepting"] is False
    assert response.json()["load"]["workers"][0]["reasons"] == ["connection_cap"]
    this_worker.connection_closed()
    assert APIClient().get("/api/health/").status_code == 200, "healthy again once the load drops"


def test_while_another_worker_on_the_machine_has_room_the_machine_takes_children(this_worker: LoadMonitor) -> None:
    this_worker.connection_opened()
    other_worker(os.getpid() + 100_000, overloaded=False)
    body = APIClient().get("/api/health/").json()
    assert body["status"] == "ok"
    assert (body["load"]["accepting"], body["load"]["overloaded_workers"], len(body["load"]["workers"])) == (True, 1, 2)
    other_worker(os.getpid() + 100_000, overloaded=True)
    response = APIClient().get("/api/health/")
    assert response.status_code == 503 and response.json()["load"]["overloaded_workers"] == 2


def test_a_worker_that_stopped_publishing_drops_out_of_the_machine(this_worker: LoadMonitor) -> None:
    gone = os.getpid() + 100_001
    other_worker(gone, overloaded=False)
    assert len(APIClient().get("/api/health/").json()["load"]["workers"]) == 2
    withdraw(pid=gone)  # as its key expiring would
    assert [worker["pid"] for worker in APIClient().get("/api/health/").json()["load"]["workers"]] == [os.getpid()]
