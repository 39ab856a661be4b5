"""Health checks of the service's dependencies: the database, the channel layer, and the upstream."""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from audio_chat import brains
from voice.context import Mode


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
