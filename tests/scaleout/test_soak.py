"""A short fault soak (the long one is bench/soak.py): many sessions and turns, random upstream faults
and client reconnects. Nothing is lost or duplicated, nothing leaks, memory stays flat."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import tracemalloc

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.test import override_settings

from audio_chat import realtime
from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.services import session_create
from audio_chat.tokens import issue_client_token
from config.asgi import application
from gemini_emulator import FaultSchedule, GeminiLiveEmulator, ScriptedResponder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(300)]

MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
# The CI run is short; bench/soak.py runs the same test longer through these variables.
SESSIONS = int(os.environ.get("SOAK_SESSIONS", "8"))
TURNS = int(os.environ.get("SOAK_TURNS", "5"))
ROUNDS = int(os.environ.get("SOAK_ROUNDS", "3"))


SERVICE_CODE = ("*/voice/*", "*/audio_chat/*", "*/google/genai/*", "*/websockets/*", "*/channels/*")
BRIDGE_OBJECTS = ("LiveChat", "SpokenChat", "LiveUpstream", "AsyncSession", "ClientConnection", "ChatConnection")


def service_memory(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes allocated by the service's own code and the libraries it drives (not the in-process emulator)."""
    kept = snapshot.filter_traces([tracemalloc.Filter(True, pattern) for pattern in SERVICE_CODE])
    return sum(stat.size for stat in kept.statistics("filename"))


def live_bridge_objects() -> dict[str, int]:
    gc.collect()
    counts = dict.fromkeys(BRIDGE_OBJECTS, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


async def converse(session: ChatSession, turns: int, rng: random.Random) -> list[str]:
    """Typed turns over reconnecting sockets; returns the texts whose replies completed."""
    token, _ = issue_client_token(str(session.id))
    completed: list[str] = []
    ws: WebsocketCommunicator | None = None
    for number in range(turns):
        if ws is None or rng.random() < 0.25:  # the child's network drops now and then
            if ws is not None:
                await ws.disconnect(timeout=10)
            ws = WebsocketCommunicator(application, f"/ws/audio-chat/{session.id}/?token={token}")
            await ws.connect(timeout=10)
            assert json.loads((await ws.receive_output(timeout=15))["text"])["type"] == "connection"
        text = f"question {number} about the key"
        await ws.send_json_to({"type": "text", "content": text})
        while True:
            output = await ws.receive_output(timeout=30)
            if output["type"] == "websocket.close":
                raise AssertionError(f"the socket closed: {output}")
            message = json.loads(output["text"]) if output.get("text") else {}
            if message.get("type") == "turn_complete":
                if not message["interrupted"]:
                    completed.append(text)
                break
    if ws is not None:
        await ws.disconnect(timeout=10)
    return completed


async def test_a_fault_soak_loses_and_duplicates_nothing_and_leaks_nothing(castle: Level) -> None:
    schedule = FaultSchedule(seed=11, close_1011=0.25, go_away=0.2, stall=0.1, max_turn=2)
    responder = ScriptedResponder(rules=[("key", "Look under the blue rug.")])
    async with GeminiLiveEmulator(
        responder=responder, realtime_factor=16.0, wait_for_playback=False, fault_schedule=schedule
    ) as emulator:
        with override_settings(
            GEMINI_API_KEY=emulator.api_key,
            GEMINI_BASE_URL=emulator.base_url,
            GEMINI_CA_FILE=str(emulator.ca_file),
            LIVE_MODELS=[MODEL],
            LIVE_STALL_SECONDS=1.5,
            MAX_CONNECTIONS_PER_SESSION=4,
        ):
            realtime.reset()
            sessions = [
                await database_sync_to_async(session_create)(child_age=6, level=castle) for _ in range(SESSIONS)
            ]
            baseline_tasks = len(asyncio.all_tasks())
            gc.collect()
            tracemalloc.start()
            rounds: list[list[list[str]]] = []
            snapshots: list[int] = []
            for round_number in range(ROUNDS):
                rounds.append(
                    await asyncio.gather(
                        *(converse(s, TURNS, random.Random(round_number * 100 + i)) for i, s in enumerate(sessions))
                    )
                )
                gc.collect()
                snapshots.append(service_memory(tracemalloc.take_snapshot()))
            tracemalloc.stop()
            await asyncio.sleep(0.5)
            realtime.reset()

        faults = [r for r in emulator.records if r.closed_with is not None]
        assert len(faults) >= 5, "the soak really injected upstream faults"
        assert emulator.open_connections == 0, "no upstream socket is left open"
    assert len(asyncio.all_tasks()) <= baseline_tasks, "no bridge task outlives its connection"
    assert live_bridge_objects() == dict.fromkeys(BRIDGE_OBJECTS, 0), "no engine, upstream or socket object leaks"
    print(f"soak: {SESSIONS} sessions x {TURNS} turns x {ROUNDS} rounds; service memory by round: {snapshots}")
    assert snapshots[-1] - snapshots[1] < 1024 * 1024, "the service's memory is flat once warm"

    for index, session in enumerate(sessions):
        rows = await database_sync_to_async(
            lambda s=session: list(ChatMessage.objects.filter(session=s).values_list("sender", "text", "interrupted"))
        )()
        child = [text for sender, text, _ in rows if sender == "child"]
        assert sorted(child) == sorted([f"question {n} about the key" for n in range(TURNS)] * ROUNDS), (
            "each turn stored once"
        )
        replies = [(text, cut) for sender, text, cut in rows if sender == "assistant"]
        completed = sum(len(rounds[r][index]) for r in range(ROUNDS))
        whole = [text for text, cut in replies if not cut]
        assert len(whole) >= completed, "every completed reply is stored"
        assert len(replies) <= len(child), "no reply is stored twice"
