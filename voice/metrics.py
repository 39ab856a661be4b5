"""Prometheus metrics of the realtime core (per process; see docs/deployment.md for several workers)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTIVE_CONNECTIONS = Gauge("audio_chat_active_connections", "Open client WebSockets")
TURNS = Counter("audio_chat_turns_total", "Helper turns completed", ["mode", "interrupted"])
BARGE_INS = Counter("audio_chat_barge_ins_total", "Live replies cut by the bridge's own detection of the child's voice")
RECONNECTS = Counter("audio_chat_upstream_reconnects_total", "Live upstream reconnections after a failure")
SWITCHOVERS = Counter("audio_chat_upstream_switchovers_total", "Planned Live connection switches (goAway)")
FALLBACKS = Counter("audio_chat_fallbacks_total", "Connections that fell back from Live to text mode")
UPSTREAM_ERRORS = Counter("audio_chat_upstream_errors_total", "Live upstream failures by close code", ["code"])
REPLY_LATENCY = Histogram(
    "audio_chat_reply_latency_seconds",
    "From the end of the child's turn to the first reply audio",
    ["mode"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
)
