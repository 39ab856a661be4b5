"""Health checks of the service's dependencies: the database, the channel layer, the offline engine, the upstream."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from audio_chat import brains
from audio_chat.load import machine_load, worker_load
from voice.context import Mode
from voice.speech.stt import shared_decoder_pool

_probe_lock = threading.Lock()
_last_probe: tuple[float, str] | None = None  # (when, result) of the last probe through a worker


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means the database cannot be used
        return f"error: {type(error).__name__}"
    return "ok"


def channel_layer() -> str:
    """A message sent to a fresh channel comes back: the layer (Redis, across workers) works."""
    layer = get_channel_layer()
    if layer is None:
        return "error: no channel layer configured"

    async def round_trip() -> bool:
        channel = await layer.new_channel("health.")
        probe = uuid.uuid4().hex
        await layer.send(channel, {"type": "health.probe", "probe": probe})
        return bool((await layer.receive(channel)).get("probe") == probe)

    try:
        return "ok" if async_to_sync(round_trip)() else "error: the probe came back wrong"
    except Exception as error:  # connection refused, timeouts: report, do not crash the health check
        return f"error: {type(error).__name__}"


def upstream() -> dict[str, Any]:
    mode = brains.active_mode()
    report: dict[str, Any] = {"mode": mode.value}
    if mode is Mode.LIVE:
        report["live_models_unavailable"] = sorted(brains.live_roster().gone)
        report["endpoint"] = settings.GEMINI_BASE_URL or "Google"
    return report


def offline_engine() -> str:
    """``ok``, or why the offline engine cannot answer in time: its workers are gone, a recent turn was
    not transcribed in time, or a probe (a second of audio through a real worker, at most every
    ``ENGINE_PROBE_SECONDS``) failed."""
    global _last_probe
    pool = shared_decoder_pool(settings.STT_DECODERS)
    if not pool.workers_alive():
        return "error: a speech-recognition worker stopped"
    with _probe_lock:
        if _last_probe is None or time.monotonic() - _last_probe[0] >= settings.ENGINE_PROBE_SECONDS:
            _last_probe = (time.monotonic(), pool.probe())
        probed = _last_probe[1]
    if probed != "ok":
        return probed
    failure = pool.recent_failure()
    return f"error: {failure}" if failure else "ok"


def load() -> dict[str, Any]:
    """This machine's load: every worker that published lately (this one measured now), and whether any of them
    takes a new child (``accepting``); a cache that cannot be read leaves this worker's own state."""
    own = worker_load().report()
    try:
        return machine_load(own)
    except Exception as error:  # Redis away: the database and channel-layer checks say so; report what is known
        return {
            "accepting": not own.overloaded,
            "overloaded_workers": int(own.overloaded),
            "workers": [{**own.as_dict(), "pid": os.getpid()}],
            "error": f"{type(error).__name__}",
        }
