"""Relay benchmark: the service's Live path against a thin relay and against clients talking to Gemini directly.

Every run starts a fresh Gemini Live emulator (``bench.relay_emulator``) and, for a relayed variant, a fresh
server process, then streams a 16 kHz WAV in real time in 20 ms frames from N clients at once. Each uplink
frame carries a stamp (``bench.stamps``) so the emulator can say when exactly it arrived; the emulator notes
when it sent each reply chunk, and the clients when they received it. Variants run one after another for
each N, so they share the machine's state of the moment.

Variants:
- ``direct``: the clients speak the Live protocol to the emulator themselves (zero added latency);
- ``thin``: ``bench.thin_relay``, the thinnest bridge on the same SDK;
- ``service``: the whole product path (uvicorn, Channels, auth, limits, transcripts, storage);
- ``service@REF`` (``--compare-ref REF``): the same, run from a git checkout of REF, for before/after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import platform
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from audio_chat.talk import create_session, read_wav_as_16k_mono
from bench.stamps import FRAME_BYTES, stamp_frames
from tests.processes import free_port, stop, wait_for_http
from voice.codecs import OpusUplinkEncoder

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
FRAME_SAMPLES = FRAME_BYTES // 2
FRAME_SECONDS = 0.02
WARM_UP_CLIENT = 4095  # the connection that loads everything before a measurement; ignored in the figures
SETTLE_SECONDS = 3.0  # after every client is streaming, before the measured window
TAIL_SECONDS = 1.5  # clients keep streaming after the window, so nothing sent in it is cut off
REAL_TIME_P99_MS = 50.0
FLAT_KIB_PER_MINUTE = 2.0  # 30 KiB per session over 15 minutes: allocator noise, not a leak
SERVICE_SECRET = "bench-secret-" + "x7Rk2" * 10
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
# How uvicorn runs the service: options given to `python -m config.serve` on top of the shipped ones (uvloop,
# websockets-sansio, no deflate). The first is the service as `make run` and docs/deployment.md start it.
SERVERS = {
    "as shipped": (),
    "uvloop+websockets": ("--ws", "websockets"),
    "asyncio+websockets-sansio": ("--loop", "asyncio"),
}
DEFAULT_SERVER = "as shipped"
# A commit from before config/serve.py existed ran under uvicorn directly, with these options.
LEGACY_SERVER_OPTIONS = ("--loop", "uvloop", "--ws", "websockets", "--ws-per-message-deflate", "false")
LIVE_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


# --- the audio every client streams ------------------------------------------------------------


def as_frames(pcm: bytes) -> np.ndarray:
    """16 kHz mono PCM16 as 20 ms frames, one a row."""
    samples = np.frombuffer(pcm, dtype="<i2")
    usable = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
    return samples[:usable].reshape(-1, FRAME_SAMPLES)


async def client_audio(wav: Path | None) -> np.ndarray:
    """The frames every client streams: ``wav`` (any PCM WAV, converted as ``talk`` does), or by default a child's
    question followed by enough silence for the reply."""
    if wav is not None:
        return as_frames(read_wav_as_16k_mono(wav))
    from tests.speech import spoken_question

    return as_frames(await spoken_question("How do I open the red door?", lead_seconds=0.3, tail_seconds=4.0))


# --- one client --------------------------------------------------------------------------------


@dataclass
class Schedule:
    """When clients stop streaming; set once every client streams."""

    stop_at: float = float("inf")


@dataclass
class ClientRun:
    """What one client saw: ``sent[i]`` is when frame i left it; ``received`` when each reply chunk came."""

    client: int
    opened_at: float = 0.0
    ready_at: float | None = None
    sent: array[float] = field(default_factory=lambda: array("d"))
    lag: array[float] = field(default_factory=lambda: array("d"))  # how far behind its schedule each frame went
    received: array[float] = field(default_factory=lambda: array("d"))
    bytes_sent: int = 0  # WebSocket message payloads, both ways
    bytes_received: int = 0
    refused: bool = False  # the service was overloaded and said so (error "overloaded", close 1013)
    failure: str = ""


async def stream_frames(
    send: Callable[[bytes], Awaitable[None]], run: ClientRun, frames: np.ndarray, schedule: Schedule, rng: Any
) -> None:
    """``frames`` on a loop, in real time, each stamped; starts at a random point of the WAV and of a frame."""
    offset = int(rng.integers(len(frames)))
    await asyncio.sleep(float(rng.uniform(0, FRAME_SECONDS)))
    started = time.monotonic()
    sequence = 0
    block: list[bytes] = []
    while True:
        due = started + sequence * FRAME_SECONDS
        if due >= schedule.stop_at:
            return
        if not block:
            rows = (np.arange(sequence, sequence + 50) + offset) % len(frames)
            block = stamp_frames(frames[rows], run.client, sequence)[::-1]
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        run.lag.append(max(0.0, now - due))
        run.sent.append(now)
        await send(block.pop())
        sequence += 1


async def record_replies(ws: ClientConnection, run: ClientRun, is_reply_audio: Callable[[str | bytes], bool]) -> None:
    async for message in ws:
        moment = time.monotonic()
        run.bytes_received += len(message)  # the service's JSON is ASCII: characters are bytes
        if is_reply_audio(message):
            run.received.append(moment)


def binary(message: str | bytes) -> bool:
    return isinstance(message, bytes)


def live_audio(message: str | bytes) -> bool:
    return b'"inlineData"' in message if isinstance(message, bytes) else '"inlineData"' in message


async def converse(
    ws: ClientConnection,
    run: ClientRun,
    frames: np.ndarray,
    schedule: Schedule,
    rng: Any,
    send: Callable[[bytes], Awaitable[None]],
    is_reply_audio: Callable[[str | bytes], bool],
) -> None:
    replies = asyncio.create_task(record_replies(ws, run, is_reply_audio))
    try:
        await stream_frames(send, run, frames, schedule, rng)
    finally:
        replies.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replies


@dataclass(frozen=True)
class Target:
    """Where a variant's clients connect: ``url`` plus a client's session path for the service."""

    kind: str  # "direct", "thin" or "service"
    emulator: dict[str, str]
    url: str = ""
    session_paths: tuple[str, ...] = ()
    codec: str = "pcm"  # the service's clients send 20 ms Opus packets instead of PCM frames when "opus"


async def run_client(
    target: Target, run: ClientRun, path: str, frames: np.ndarray, schedule: Schedule, ready: asyncio.Event, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    run.opened_at = time.monotonic()
    try:
        if target.kind == "direct":
            context = ssl.create_default_context(cafile=target.emulator["ca_file"])
            url = target.emulator["base_url"].replace("https://", "wss://") + LIVE_PATH
            headers = {"x-goog-api-key": target.emulator["api_key"]}
            async with connect(url, ssl=context, additional_headers=headers, compression=None, max_size=None) as ws:
                await ws.send(json.dumps({"setup": direct_setup()}))
                while "setupComplete" not in json.loads(await asyncio.wait_for(ws.recv(), 30)):
                    pass
                run.ready_at = time.monotonic()
                ready.set()

                async def send_live(frame: bytes) -> None:
                    data = base64.b64encode(frame).decode("ascii")
                    await counted_send(
                        ws, run, '{"realtimeInput":{"audio":{"data":"' + data + '","mimeType":"audio/pcm;rate=16000"}}}'
                    )

                await converse(ws, run, frames, schedule, rng, send_live, live_audio)
        else:
            async with connect(target.url + path, compression=None, max_size=None) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if first.get("type") == "error" and first.get("code") == "overloaded":
                    run.refused = True
                    ready.set()
                    return
                if first.get("type") not in ("connection", "ready"):
                    raise RuntimeError(f"unexpected first message {first}")
                run.ready_at = time.monotonic()
                ready.set()
                send: Callable[[bytes], Awaitable[None]] = functools.partial(counted_send, ws, run)
                if target.codec == "opus":  # the stamps do not survive the codec: no latency figures then
                    microphone = OpusUplinkEncoder()

                    async def send_opus(frame: bytes) -> None:
                        for packet in microphone.encode(frame):
                            await counted_send(ws, run, packet)

                    send = send_opus
                await converse(ws, run, frames, schedule, rng, send, binary)
    except Exception as error:  # a client's failure is a result: it is counted and reported
        run.failure = f"{type(error).__name__}: {error}"
        ready.set()


async def counted_send(ws: ClientConnection, run: ClientRun, message: str | bytes) -> None:
    run.bytes_sent += len(message)  # JSON text is ASCII: characters are bytes
    await ws.send(message)


def direct_setup() -> dict[str, Any]:
    """What the SDK sends for the service's session, minus the instruction: audio out, transcripts both ways."""
    return {
        "model": f"models/{MODEL}",
        "generationConfig": {"responseModalities": ["AUDIO"]},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
    }


# --- the processes ---------------------------------------------------------------------------


class Emulator:
    def __init__(self, realtime_factor: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.relay_emulator", "--realtime-factor", str(realtime_factor)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.found: dict[str, str] = json.loads(self.process.stdout.readline())

    def finish(self, destination: Path) -> list[dict[str, Any]]:
        """Stop it, and return what it recorded."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{destination}\n")
        self.process.stdin.flush()
        self.process.wait(timeout=120)
        return list(json.loads(destination.read_text()))


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    target: Target
    shared: dict[str, str] = field(default_factory=dict)  # the PostgreSQL and Redis settings it ran with


def start_thin_relay(emulator: dict[str, str], logs: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.thin_relay", "--port", str(port), "--base-url", emulator["base_url"],
         "--ca-file", emulator["ca_file"], "--api-key", emulator["api_key"], "--model", MODEL],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=(logs / "thin-relay.log").open("ab"),
    )  # fmt: skip
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":
        raise RuntimeError("the thin relay did not start; see thin-relay.log")
    return Server(process, Target("thin", emulator, url=f"ws://127.0.0.1:{port}/"))


def service_environment(database: Path, emulator: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": SERVICE_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{database}",
        "REST_RATE_LIMIT": "100000/min",
        "LOG_LEVEL": "WARNING",
        "GEMINI_API_KEY": emulator.get("api_key", "bench-key"),
        "GEMINI_BASE_URL": emulator.get("base_url", ""),
        "GEMINI_CA_FILE": emulator.get("ca_file", ""),
        "LIVE_MODELS": MODEL,
        "BRAIN_MODE": "live",
    }


def migrate_with_demo_levels(source: Path, env: dict[str, str]) -> str:
    """Migrate the database ``env`` names, load the demo levels, and return a new API key."""

    def manage(*command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=source, env=env, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    manage("migrate", "--noinput", "-v0")
    manage("load_demo_levels")
    return manage("create_api_key", "relay benchmark")


def prepare_database(source: Path, workdir: Path) -> tuple[Path, str]:
    """A migrated SQLite database with the demo levels and an API key, copied for every service run."""
    database = workdir / f"template-{source.name}.sqlite3"
    env = service_environment(database, {})
    return database, migrate_with_demo_levels(source, env)


def create_sessions(base: str, api_key: str, count: int, codec: str = "pcm") -> list[str]:
    def create(_: int) -> str:
        session = create_session(base, api_key, "castle-red-door", 6)
        return f"{session['websocket_path']}?token={session['client_token']}&codec={codec}"

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, range(count)))


def shared_database(source: Path, emulator: dict[str, str], workdir: Path) -> tuple[dict[str, str], str]:
    """A fresh PostgreSQL database (migrated, with the demo levels and an API key) and an emptied Redis database:
    the settings that point a service at them, and the key."""
    import psycopg
    import redis

    name = f"audio_chat_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    settings = {"DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", "REDIS_URL": BENCH_REDIS_URL}
    env = {**service_environment(workdir / "unused.sqlite3", emulator), **settings}
    return settings, migrate_with_demo_levels(source, env)


def drop_shared_database(settings: dict[str, str]) -> None:
    import psycopg

    name = settings["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_service(
    variant: Variant, template: tuple[Path, str], emulator: dict[str, str], clients: int, workdir: Path
) -> Server:
    source = variant.source
    database = workdir / f"run-{time.monotonic_ns()}.sqlite3"
    environment = service_environment(database, emulator)
    api_key = template[1]
    shared: dict[str, str] = {}
    if variant.shared:
        shared, api_key = shared_database(source, emulator, workdir)
        environment.update(shared)
    else:
        shutil.copy(template[0], database)
    environment.update(dict(variant.environment))
    port = free_port()
    if (source / "config" / "serve.py").exists():
        launcher = ["-m", "config.serve", *SERVERS[variant.server], "--workers", str(variant.workers)]
    else:
        launcher = ["-m", "uvicorn", "config.asgi:application", *LEGACY_SERVER_OPTIONS]
    process = subprocess.Popen(
        [sys.executable, *launcher, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=source, env=environment,
        stdout=(workdir / "service.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/api/health/", seconds=120, process=process)
    except RuntimeError:
        stop(process)
        raise RuntimeError(f"the service did not start; see {workdir / 'service.log'}") from None
    paths = create_sessions(base, api_key, clients + 1, variant.codec)
    target = Target("service", emulator, url=f"ws://127.0.0.1:{port}", session_paths=tuple(paths), codec=variant.codec)
    return Server(process, target, shared)


# --- one measured run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "direct", "thin" or "service"
    source: Path = ROOT
    server: str = DEFAULT_SERVER
    codec: str = "pcm"  # what the service's clients ask for (?codec=)
    workers: int = 1
    shared: bool = False  # PostgreSQL and Redis instead of SQLite and the in-memory layer
    environment: tuple[tuple[str, str], ...] = ()  # settings on top of the benchmark's


@dataclass
class Figures:
    """One variant at one N."""

    variant: str
    clients: int
    seconds: float
    uplink_ms: list[float]
    downlink_ms: list[float]
    reply_start_ms: list[float]  # the downlink latency of each reply's first chunk: how much later a child hears it
    ready_ms: list[float]
    first_audio_ms: list[float]
    cpu_ms_per_session_second: float | None
    rss_kib_per_session: float | None
    emulator_cpu_percent: float
    generator_cpu_percent: float
    generator_lag_p99_ms: float
    lost_uplink: int
    lost_downlink: int
    failures: list[str]
    refused: int = 0
    rss_timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the window, MiB)
    # WebSocket payload bytes per session-second: child ↔ relay (measured by the clients), relay ↔ Gemini (by the
    # emulator). Direct clients are their own relay: both pairs are the same traffic then.
    client_up_bytes_per_second: float | None = None
    client_down_bytes_per_second: float | None = None
    upstream_up_bytes_per_second: float | None = None
    upstream_down_bytes_per_second: float | None = None


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


async def sample_rss(process: psutil.Process | None, into: list[tuple[float, float]], every: float) -> None:
    started = time.monotonic()
    while process is not None:
        into.append((time.monotonic() - started, tree_rss(process) / 2**20))
        await asyncio.sleep(every)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _tree(process: psutil.Process) -> list[psutil.Process]:
    """The server and its children: uvicorn's workers under its supervisor, the speech decoders under a worker."""
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [process]


def tree_cpu_seconds(process: psutil.Process) -> float:
    total = 0.0
    for member in _tree(process):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += cpu_seconds(member)
    return total


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in _tree(process):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return total


async def measure(
    variant: Variant,
    clients: int,
    seconds: float,
    frames: np.ndarray,
    template: dict[Path, tuple[Path, str]],
    workdir: Path,
    realtime_factor: float,
    rss_every: float = 0.5,
    on_window: Callable[[int], Coroutine[Any, Any, None]] | None = None,
    ramp_seconds: float | None = None,
) -> Figures:
    emulator = Emulator(realtime_factor)
    server: Server | None = None
    try:
        if variant.kind == "thin":
            server = await asyncio.to_thread(start_thin_relay, emulator.found, workdir)
        elif variant.kind == "service":
            server = await asyncio.to_thread(
                start_service, variant, template[variant.source], emulator.found, clients, workdir
            )
        target = server.target if server is not None else Target("direct", emulator.found)
        paths = target.session_paths or ("",) * (clients + 1)
        server_process = psutil.Process(server.process.pid) if server is not None else None

        # One connection first, so imports, caches and pools are paid for before the baseline is taken.
        warm_up = Schedule(stop_at=time.monotonic() + 3.0)
        await run_client(target, ClientRun(WARM_UP_CLIENT), paths[-1], frames, warm_up, asyncio.Event(), seed=0)
        await asyncio.sleep(1.0)
        baseline_rss = tree_rss(server_process) if server_process else 0

        schedule = Schedule()
        runs = [ClientRun(i) for i in range(clients)]
        events = [asyncio.Event() for _ in runs]
        ramp = min(2.0, clients * 0.02) if ramp_seconds is None else ramp_seconds
        tasks = []
        for run, ready in zip(runs, events, strict=True):
            client = run_client(target, run, paths[run.client], frames, schedule, ready, seed=run.client + 1)
            tasks.append(asyncio.create_task(client))
            await asyncio.sleep(ramp / clients)
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 120)
        await asyncio.sleep(SETTLE_SECONDS)

        me, emulator_process = psutil.Process(), psutil.Process(emulator.process.pid)
        window_start = time.monotonic()
        cpu_before = tree_cpu_seconds(server_process) if server_process else 0.0
        emulator_before, me_before = cpu_seconds(emulator_process), cpu_seconds(me)
        timeline: list[tuple[float, float]] = []
        sampler = asyncio.create_task(sample_rss(server_process, timeline, rss_every))
        watcher: asyncio.Task[None] | None = None
        if on_window is not None and server_process is not None:
            watcher = asyncio.create_task(on_window(server_process.pid))
        await asyncio.sleep(seconds)
        window_end = time.monotonic()
        cpu_after = tree_cpu_seconds(server_process) if server_process else 0.0
        emulator_after, me_after = cpu_seconds(emulator_process), cpu_seconds(me)
        sampler.cancel()
        schedule.stop_at = window_end + TAIL_SECONDS
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        if watcher is not None:
            await asyncio.wait_for(watcher, 60)
        await asyncio.sleep(0.5)
    finally:
        if server is not None:
            await asyncio.to_thread(stop, server.process)
            if server.shared:
                await asyncio.to_thread(drop_shared_database, server.shared)
        timings = await asyncio.to_thread(emulator.finish, workdir / "timings.json")

    elapsed = window_end - window_start
    by_client = {run.client: run for run in runs}
    uplink: list[float] = []
    downlink: list[float] = []
    reply_starts: list[float] = []
    first_audio: list[float] = []
    lost_up = lost_down = 0
    # A client may have had several upstream connections (the service switches over on goAway, or reconnects):
    # its frames and reply chunks are counted across all of them, in the order they were opened.
    connections_of: dict[int, list[dict[str, Any]]] = {}
    for connection in timings:
        stamps = connection["uplink"]
        if stamps and stamps[0][0] in by_client:
            connections_of.setdefault(stamps[0][0], []).append(connection)
    for client_number, connections in connections_of.items():
        run = by_client[client_number]
        arrivals: dict[int, float] = {}
        for connection in connections:
            for _, sequence, moment in connection["uplink"]:
                arrivals.setdefault(sequence, moment)
        for sequence, sent in enumerate(run.sent):
            if window_start <= sent < window_end:
                if sequence in arrivals:
                    uplink.append((arrivals[sequence] - sent) * 1000)
                else:
                    lost_up += 1
        first_audio.append((connections[0]["uplink"][0][2] - run.opened_at) * 1000)
        chunks = [moment for connection in connections for moment in connection["downlink"]]
        starts: set[int] = set()  # which of the chunks began a reply
        offset = 0
        for connection in connections:
            starts.update(offset + index for index in connection.get("reply_starts", []))
            offset += len(connection["downlink"])
        for number, sent in enumerate(chunks):
            if window_start <= sent < window_end:
                if number < len(run.received):
                    downlink.append((run.received[number] - sent) * 1000)
                    if number in starts:
                        reply_starts.append(downlink[-1])
                else:
                    lost_down += 1
    admitted = sum(1 for run in runs if not run.refused)  # a refused client streams nothing
    streamed = sum(run.sent[-1] - run.sent[0] for run in runs if len(run.sent) > 1)
    upstream_connections = [connection for connections in connections_of.values() for connection in connections]
    upstream_seconds = sum(connection.get("seconds", 0.0) for connection in upstream_connections)

    def per_second(total: float, seconds: float) -> float | None:
        return total / seconds if seconds > 0 else None

    window_rss = [mib for moment, mib in timeline]
    lags = [
        lag for run in runs for lag, sent in zip(run.lag, run.sent, strict=True) if window_start <= sent < window_end
    ]
    return Figures(
        variant=variant.name,
        clients=clients,
        seconds=elapsed,
        uplink_ms=uplink,
        downlink_ms=downlink,
        reply_start_ms=reply_starts,
        ready_ms=[(r.ready_at - r.opened_at) * 1000 for r in runs if r.ready_at is not None],
        first_audio_ms=first_audio,
        cpu_ms_per_session_second=(cpu_after - cpu_before) * 1000 / (admitted * elapsed)
        if server_process and admitted
        else None,
        rss_kib_per_session=(float(np.median(window_rss)) * 1024 - baseline_rss / 1024) / admitted
        if server_process and window_rss and admitted
        else None,
        emulator_cpu_percent=(emulator_after - emulator_before) / elapsed * 100,
        generator_cpu_percent=(me_after - me_before) / elapsed * 100,
        generator_lag_p99_ms=percentile(lags, 99) * 1000,
        lost_uplink=lost_up,
        lost_downlink=lost_down,
        failures=[r.failure for r in runs if r.failure],
        refused=sum(r.refused for r in runs),
        rss_timeline=timeline,
        client_up_bytes_per_second=per_second(sum(r.bytes_sent for r in runs), streamed),
        client_down_bytes_per_second=per_second(sum(r.bytes_received for r in runs), streamed),
        upstream_up_bytes_per_second=per_second(
            sum(c.get("bytes_received", 0) for c in upstream_connections), upstream_seconds
        ),
        upstream_down_bytes_per_second=per_second(
            sum(c.get("bytes_sent", 0) for c in upstream_connections), upstream_seconds
        ),
    )


# --- profiling ---------------------------------------------------------------------------------


def profile_summary(raw: Path, top: int = 14) -> str:
    """py-spy's collapsed stacks as two tables: where the time is spent by library, and by function (self time)."""
    by_function: dict[str, int] = {}
    by_library: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        leaf = stack.split(";")[-1]
        by_function[leaf] = by_function.get(leaf, 0) + count
        by_library[library_of(leaf)] = by_library.get(library_of(leaf), 0) + count
    if total == 0:
        return "(py-spy recorded no samples)"
    libraries = sorted(by_library.items(), key=lambda item: -item[1])
    rest = sum(count for _, count in libraries[top:])
    lines = ["| where (self time) | share of samples |", "|---|---|"]
    lines += [f"| {name} | {count / total:.1%} |" for name, count in libraries[:top]]
    lines += [f"| everything else | {rest / total:.1%} |"]
    lines += ["", "| function (self time) | share of samples |", "|---|---|"]
    ranked = sorted(by_function.items(), key=lambda item: -item[1])[:top]
    lines += [f"| `{name}` | {count / total:.1%} |" for name, count in ranked]
    return "\n".join(lines)


def library_of(frame: str) -> str:
    """``send (websockets/asyncio/connection.py:123)`` → ``websockets``; our own modules by their package."""
    location = frame.rpartition("(")[2].rstrip(")")
    path = location.rpartition(":")[0]
    if "site-packages/" in path:
        return path.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if "/lib/python" in path:
        return "Python standard library"
    for ours in ("voice", "audio_chat", "config", "bench", "gemini_emulator"):
        if f"/{ours}/" in path or path.startswith(f"{ours}/"):
            return f"audio-chat: {ours}"
    return path or frame


async def profiled(
    variant: Variant, clients: int, seconds: float, frames: np.ndarray, templates: Any, workdir: Path, factor: float
) -> str:
    """A separate run with py-spy sampling the server (it slows what it samples, so no figures are kept)."""
    raw = workdir / "profile.txt"
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))

    async def attach(pid: int) -> None:
        command = [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250",
                   "--format", "raw", "--nonblocking", "--output", str(raw)]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await process.wait()

    await measure(variant, clients, seconds, frames, templates, workdir, factor, on_window=attach)
    return profile_summary(raw) if raw.exists() else "(py-spy could not attach: it needs ptrace permission)"


# --- the report ---------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1f}"


def git(*arguments: str) -> str:
    program = shutil.which("git")
    if program is None:
        raise RuntimeError("git is not installed")
    return subprocess.run([program, *arguments], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def worktree(ref: str, workdir: Path) -> tuple[Path, str]:
    """A checkout of ``ref`` to run the service from, and its short commit name."""
    commit = git("rev-parse", "--short", ref)
    path = workdir / f"checkout-{commit}"
    git("worktree", "add", "--detach", str(path), ref)
    return path, commit


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} vCPU ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


@dataclass
class Sweep:
    figures: list[Figures]
    variants: list[Variant]
    clients: list[int]

    def find(self, variant: str, clients: int) -> list[Figures]:
        return [f for f in self.figures if f.variant == variant and f.clients == clients]

    def median(self, variant: str, clients: int, pick: Callable[[Figures], float | None]) -> float | None:
        values = [v for v in (pick(f) for f in self.find(variant, clients)) if v is not None and v == v]
        return float(np.median(values)) if values else None

    def added(self, variant: str, clients: int, direction: str, q: float) -> float | None:
        """The variant's percentile minus the direct clients' in the same round; the median over rounds."""
        own = self.find(variant, clients)
        direct = self.find("direct", clients)
        values = [
            percentile(getattr(a, direction), q) - percentile(getattr(b, direction), q)
            for a, b in zip(own, direct, strict=False)
        ]
        values = [v for v in values if v == v]
        return float(np.median(values)) if values else None

    def in_real_time(self, variant: str, clients: int) -> bool:
        runs = self.find(variant, clients)
        if not runs or any(f.failures or f.refused or f.lost_uplink or f.lost_downlink for f in runs):
            return False
        added = [self.added(variant, clients, d, 99) for d in ("uplink_ms", "downlink_ms")]
        return all(a is not None and a < REAL_TIME_P99_MS for a in added)


def latency_at(direction: str, q: float) -> Callable[[Figures], float]:
    def pick(figures: Figures) -> float:
        return percentile(getattr(figures, direction), q)

    return pick


def latency_table(sweep: Sweep, direction: str) -> list[str]:
    lines = [
        "| N | variant | p50 | p95 | p99 | added p50 | added p95 | added p99 | samples | lost |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lost = "lost_uplink" if direction == "uplink_ms" else "lost_downlink"
    if direction == "reply_start_ms":
        lines = [line.removesuffix(" lost |").removesuffix("---|") for line in lines]
    for clients in sweep.clients:
        for variant in sweep.variants:
            runs = sweep.find(variant.name, clients)
            if not runs:
                continue
            cells = [ms(sweep.median(variant.name, clients, latency_at(direction, q))) for q in (50, 95, 99)]
            if variant.kind == "direct":
                cells += ["0", "0", "0"]
            else:
                cells += [ms(sweep.added(variant.name, clients, direction, q)) for q in (50, 95, 99)]
            cells.append(str(sum(len(getattr(f, direction)) for f in runs)))
            if direction != "reply_start_ms":  # its losses are the downlink's
                cells.append(str(sum(getattr(f, lost) for f in runs)))
            lines.append(f"| {clients} | {variant.name} | {' | '.join(cells)} |")
    return lines


def cost_table(sweep: Sweep) -> list[str]:
    lines = [
        "| N | variant | server CPU ms per admitted session-second | server RSS KiB per admitted session "
        "| open → ready: median | p95 "
        "| open → first frame at the model: median | emulator CPU | clients' CPU | clients' lag p99 | refused (1013) "
        "| failures |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for clients in sweep.clients:
        for variant in sweep.variants:
            runs = sweep.find(variant.name, clients)
            if not runs:
                continue
            name = variant.name
            cpu = sweep.median(name, clients, lambda f: f.cpu_ms_per_session_second)
            rss = sweep.median(name, clients, lambda f: f.rss_kib_per_session)
            cells = [
                "-" if cpu is None else f"{cpu:.2f}",
                "-" if rss is None else f"{rss:.0f}",
                ms(sweep.median(name, clients, lambda f: percentile(f.ready_ms, 50))),
                ms(sweep.median(name, clients, lambda f: percentile(f.ready_ms, 95))),
                ms(sweep.median(name, clients, lambda f: percentile(f.first_audio_ms, 50))),
                f"{sweep.median(name, clients, lambda f: f.emulator_cpu_percent) or 0:.0f} %",
                f"{sweep.median(name, clients, lambda f: f.generator_cpu_percent) or 0:.0f} %",
                ms(sweep.median(name, clients, lambda f: f.generator_lag_p99_ms)),
                str(sum(f.refused for f in runs)),
                str(sum(len(f.failures) for f in runs)),
            ]
            lines.append(f"| {clients} | {name} | {' | '.join(cells)} |")
    return lines


def bandwidth_table(sweep: Sweep) -> list[str]:
    lines = [
        "| N | variant | child → relay | relay → child | relay → Gemini | Gemini → relay |",
        "|---|---|---|---|---|---|",
    ]

    def kib(value: float | None) -> str:
        return "-" if value is None else f"{value / 1024:.1f}"

    for clients in sweep.clients:
        for variant in sweep.variants:
            if variant.kind == "direct" or not sweep.find(variant.name, clients):
                continue
            cells = [
                kib(sweep.median(variant.name, clients, lambda f: f.client_up_bytes_per_second)),
                kib(sweep.median(variant.name, clients, lambda f: f.client_down_bytes_per_second)),
                kib(sweep.median(variant.name, clients, lambda f: f.upstream_up_bytes_per_second)),
                kib(sweep.median(variant.name, clients, lambda f: f.upstream_down_bytes_per_second)),
            ]
            lines.append(f"| {clients} | {variant.name} | {' | '.join(cells)} |")
    return lines


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


CPU_RATIO_TARGET = 1.2  # the service's CPU per session-second against the thin relay's, at N = 50 and 100
ADDED_P99_TARGET_MS = 10.0  # the service's added p99 over the thin relay's, each way, at N = 20 and 50


def targets_table(sweep: Sweep, soak: Figures | None) -> list[str]:
    def fmt(value: float | None, unit: str) -> str:
        return "not measured" if value is None else f"{value:.2f} {unit}"

    lines = ["| target | service | thin relay | ratio or difference | verdict |", "|---|---|---|---|---|"]
    for at in (n for n in (50, 100) if n in sweep.clients):
        service_cpu = sweep.median("service", at, lambda f: f.cpu_ms_per_session_second)
        thin_cpu = sweep.median("thin relay", at, lambda f: f.cpu_ms_per_session_second)
        ratio = service_cpu / thin_cpu if service_cpu and thin_cpu else None
        lines.append(
            f"| CPU per session-second at N = {at}: within {CPU_RATIO_TARGET:g}x the thin relay's "
            f"| {fmt(service_cpu, 'ms')} | {fmt(thin_cpu, 'ms')} | {fmt(ratio, 'x')} "
            f"| {verdict(None if ratio is None else ratio <= CPU_RATIO_TARGET)} |"
        )
    for at in (n for n in (20, 50) if n in sweep.clients):
        for direction, label in (("uplink_ms", "uplink"), ("downlink_ms", "downlink")):
            service = sweep.added("service", at, direction, 99)
            thin = sweep.added("thin relay", at, direction, 99)
            difference = service - thin if service is not None and thin is not None else None
            lines.append(
                f"| added {label} p99 at N = {at}: within {ADDED_P99_TARGET_MS:g} ms of the thin relay's "
                f"| {fmt(service, 'ms')} | {fmt(thin, 'ms')} | {fmt(difference, 'ms')} "
                f"| {verdict(None if difference is None else difference <= ADDED_P99_TARGET_MS)} |"
            )
    service_most, thin_most = largest_real_time(sweep, "service"), largest_real_time(sweep, "thin relay")
    lines.append(
        f"| largest N one worker keeps in real time: the thin relay's | {service_most} | {thin_most} | - "
        f"| {verdict(service_most.split()[0] == thin_most.split()[0])} |"
    )
    if soak is not None:
        growth = memory_growth(soak)
        lines.append(
            f"| memory flat over a {soak.seconds / 60:.0f}-minute session (N = {soak.clients}): at most "
            f"{FLAT_KIB_PER_MINUTE:g} KiB per session per minute | {growth:+.1f} KiB per session per minute over the "
            f"second half | - | - | {verdict(abs(growth) <= FLAT_KIB_PER_MINUTE)} |"
        )
    return lines


def memory_growth(soak: Figures) -> float:
    """RSS growth per session per minute over the second half of the soak (a least-squares slope)."""
    half = [(t, mib) for t, mib in soak.rss_timeline if t >= soak.seconds / 2]
    if len(half) < 2:
        return float("nan")
    times, mib = np.array(half).T
    slope_mib_per_second = float(np.polyfit(times, mib, 1)[0])
    return slope_mib_per_second * 1024 * 60 / soak.clients


def largest_real_time(sweep: Sweep, variant: str) -> str:
    passing = [n for n in sweep.clients if sweep.in_real_time(variant, n)]
    if not passing:
        return "none of the measured N"
    largest = max(passing)
    beyond = [n for n in sweep.clients if n > largest]
    return f"{largest}" + (f" (not {beyond[0]})" if beyond else " (the largest measured)")


def comparison_table(sweep: Sweep, before: str, after: str) -> list[str]:
    lines = [
        f"| N | CPU ms per session-second: {before} | {after} | ratio | RSS KiB per session: before | after "
        "| added uplink p99 ms: before | after | added downlink p99 ms: before | after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for clients in sweep.clients:
        cpu = [sweep.median(v, clients, lambda f: f.cpu_ms_per_session_second) for v in (before, after)]
        rss = [sweep.median(v, clients, lambda f: f.rss_kib_per_session) for v in (before, after)]
        up = [sweep.added(v, clients, "uplink_ms", 99) for v in (before, after)]
        down = [sweep.added(v, clients, "downlink_ms", 99) for v in (before, after)]
        ratio = f"{cpu[1] / cpu[0]:.2f}" if cpu[0] and cpu[1] else "-"
        lines.append(
            f"| {clients} | {ms(cpu[0])} | {ms(cpu[1])} | {ratio} | {ms(rss[0])} | {ms(rss[1])} "
            f"| {ms(up[0])} | {ms(up[1])} | {ms(down[0])} | {ms(down[1])} |"
        )
    return lines


# --- the command --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    clients: list[int]
    seconds: float
    rounds: int
    realtime_factor: float
    wav: Path | None
    compare_ref: str
    profile: bool
    soak_minutes: float
    soak_clients: int
    servers: list[str]
    capacity: list[int] = field(default_factory=list)
    overload: int = 0
    overload_ramp_seconds: float = 30.0
    overload_cap: int = 0  # MAX_CONNECTIONS_PER_WORKER for the overload run; 0: the default (event-loop lag only)


CAPACITY_VARIANTS = (
    Variant("direct", "direct"),
    Variant("1 worker", "service", shared=True, workers=1),
    Variant("2 workers", "service", shared=True, workers=2),
)


OVERLOAD_LAG_MS = "50"  # the overload run's lag limit (the service's default, 0, measures without refusing)


def overload_variant(cap: int) -> Variant:
    environment: tuple[tuple[str, str], ...] = (("OVERLOAD_LAG_MS", OVERLOAD_LAG_MS),)
    if cap:
        environment += (("MAX_CONNECTIONS_PER_WORKER", str(cap)),)
    return Variant("one worker, offered too many", "service", environment=environment)


async def measure_sweep(
    variants: list[Variant],
    sizes: list[int],
    options: Options,
    frames: np.ndarray,
    templates: dict[Path, tuple[Path, str]],
    workdir: Path,
) -> Sweep:
    """Every variant at every N, the rounds rotating the variants' order so that none always goes first."""
    figures: list[Figures] = []
    for round_number in range(options.rounds):
        for clients in sizes:
            shift = round_number % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                result = await measure(
                    variant, clients, options.seconds, frames, templates, workdir, options.realtime_factor
                )
                figures.append(result)
                print(progress(result), file=sys.stderr, flush=True)
    return Sweep(figures, variants, sizes)


async def run(options: Options) -> str:
    """Measure everything the options ask for; returns the Markdown report."""
    workdir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    frames = await client_audio(options.wav)
    variants = [Variant("direct", "direct"), Variant("thin relay", "thin")]
    variants += [
        Variant("service" if server == DEFAULT_SERVER else f"service on {server}", "service", ROOT, server)
        for server in options.servers
    ]
    before = ""
    try:
        if options.compare_ref:
            checkout, commit = await asyncio.to_thread(worktree, options.compare_ref, workdir)
            before = f"service @ {commit}"
            variants.append(Variant(before, "service", checkout))
        sources = {v.source for v in variants if v.kind == "service"}
        templates = {source: await asyncio.to_thread(prepare_database, source, workdir) for source in sources}
        sweep = await measure_sweep(variants, options.clients, options, frames, templates, workdir)
        service = variants[2]  # the service as make run starts it
        highest = max(options.clients)
        profile = ""
        if options.profile:
            profile = await profiled(
                service, highest, options.seconds, frames, templates, workdir, options.realtime_factor
            )
        capacity = None
        if options.capacity:
            capacity = await measure_sweep(
                list(CAPACITY_VARIANTS), options.capacity, options, frames, templates, workdir
            )
        overload = None
        if options.overload:
            overload = await measure(
                overload_variant(options.overload_cap), options.overload, options.seconds, frames, templates, workdir,
                options.realtime_factor, ramp_seconds=options.overload_ramp_seconds,
            )  # fmt: skip
            print(progress(overload), file=sys.stderr, flush=True)
        soak = None
        if options.soak_minutes:
            soak = await measure(
                service, options.soak_clients, options.soak_minutes * 60, frames, templates, workdir,
                options.realtime_factor, rss_every=5.0,
            )  # fmt: skip
            print(progress(soak), file=sys.stderr, flush=True)
        return report(options, sweep, soak, profile, before, capacity, overload)
    finally:
        if options.compare_ref:
            await asyncio.to_thread(git, "worktree", "prune")
        shutil.rmtree(workdir, ignore_errors=True)


def progress(figures: Figures) -> str:
    cpu = figures.cpu_ms_per_session_second
    return (
        f"N={figures.clients:<4} {figures.variant:<24} uplink p99 {percentile(figures.uplink_ms, 99):7.1f} ms  "
        f"downlink p99 {percentile(figures.downlink_ms, 99):7.1f} ms  "
        f"cpu {'-' if cpu is None else f'{cpu:.2f}'} ms/s  lost {figures.lost_uplink}/{figures.lost_downlink}  "
        f"refused {figures.refused}  failures {len(figures.failures)}"
        + (f" ({figures.failures[0]})" if figures.failures else "")
    )


def report(
    options: Options,
    sweep: Sweep,
    soak: Figures | None,
    profile: str,
    before: str,
    capacity: Sweep | None = None,
    overload: Figures | None = None,
) -> str:
    audio = f"the WAV {options.wav.name}" if options.wav else "a synthesised question (2.5 s of speech, 4 s of silence)"
    lines = [
        "## Relay overhead: the service against a thin relay and clients talking to Gemini directly",
        "",
        f"{len(options.clients)} sizes x {len(sweep.variants)} variants, {options.rounds} round(s), a "
        f"{options.seconds:.0f} s measured window each, after every client has streamed for {SETTLE_SECONDS:.0f} s. "
        f"Every client streams {audio}"
        " on a loop in real time, in 20 ms frames, each starting at a random point; the emulator (its own process, "
        f"replies about 3 s long, generated {options.realtime_factor:g}x faster than real time in 1 s bursts of 200 ms "
        "chunks) answers each question. Latency is from the moment a frame leaves a client to the moment the "
        "emulator has decoded it (uplink), and from the emulator sending a reply chunk to a client receiving it "
        "(downlink); **added** is a variant's percentile minus the direct clients' in the same round. CPU and "
        "memory are the server process's own: CPU time over the window divided by the session-seconds streamed, "
        "and resident memory over the window minus the same process's after one warm-up session, divided by N. "
        "The emulator and the clients share the machine's two cores with the server: their CPU is shown, and "
        "\"clients' lag\" says how late the clients' own schedule ran.",
        "",
        "### Uplink: client → emulator, ms",
        "",
        *latency_table(sweep, "uplink_ms"),
        "",
        "### Downlink: emulator → client, ms",
        "",
        *latency_table(sweep, "downlink_ms"),
        "",
        "### The first chunk of each reply: emulator → client, ms",
        "",
        "The downlink latency of the chunks that begin a reply: how much later than the direct clients a child "
        "starts to hear an answer.",
        "",
        *latency_table(sweep, "reply_start_ms"),
        "",
        "### Cost and connection time",
        "",
        *cost_table(sweep),
        "",
        "\"Ready\" is the service's `connection` message, the thin relay's `ready` (sent once its upstream is "
        "open) and the emulator's `setupComplete` for the direct clients. The service sends `connection` before "
        'its upstream is open and buffers the child\'s first audio meanwhile, so "first frame at the model" is '
        "the fair comparison of start-up time.",
        "",
        "### Bytes per session-second, KiB",
        "",
        "WebSocket message payloads (without WebSocket, TLS and TCP framing): the clients count what they send and "
        "receive, the emulator what reaches it and what it sends. The reply audio is 24 kHz PCM generated "
        "faster than real time, so a relay's downlink figure follows how much of the time the helper talks.",
        "",
        *bandwidth_table(sweep),
        "",
        "### Against the targets",
        "",
        *targets_table(sweep, soak),
        "",
        "Largest N one worker process keeps in real time (added p99 under "
        f"{REAL_TIME_P99_MS:.0f} ms both ways, nothing lost): service **{largest_real_time(sweep, 'service')}**, "
        f"thin relay {largest_real_time(sweep, 'thin relay')}.",
    ]
    if before:
        lines += [
            "",
            f"### Before and after the hot-path changes (same run, interleaved; before = {before})",
            "",
            *comparison_table(sweep, before, "service"),
        ]
    if capacity is not None:
        lines += ["", *capacity_section(capacity)]
    if overload is not None:
        lines += ["", *overload_section(overload, options, sweep)]
    if profile:
        lines += ["", f"### Profile of the service at N = {max(options.clients)} (py-spy, separate run)", "", profile]
    return "\n".join(lines)


def capacity_section(capacity: Sweep) -> list[str]:
    lines = [
        "### The machine's capacity: one worker against two, on PostgreSQL and Redis",
        "",
        "`python -m config.serve --workers W` with `DATABASE_URL` (PostgreSQL) and `REDIS_URL` set, as "
        "docs/deployment.md runs it; uvicorn's workers share one port. CPU and memory are the whole process tree "
        "(the supervisor and its workers). The clients and the emulator run on the same two cores.",
        "",
        "| N | variant | CPU ms per session-second | added uplink p50 | p99 | added downlink p50 | p99 | lost | "
        "failures |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients in capacity.clients:
        for variant in capacity.variants:
            runs = capacity.find(variant.name, clients)
            if variant.kind == "direct" or not runs:
                continue
            cpu = capacity.median(variant.name, clients, lambda f: f.cpu_ms_per_session_second)
            cells = [
                "-" if cpu is None else f"{cpu:.2f}",
                ms(capacity.added(variant.name, clients, "uplink_ms", 50)),
                ms(capacity.added(variant.name, clients, "uplink_ms", 99)),
                ms(capacity.added(variant.name, clients, "downlink_ms", 50)),
                ms(capacity.added(variant.name, clients, "downlink_ms", 99)),
                str(sum(f.lost_uplink + f.lost_downlink for f in runs)),
                str(sum(len(f.failures) + f.refused for f in runs)),
            ]
            lines.append(f"| {clients} | {variant.name} | {' | '.join(cells)} |")
    lines += [
        "",
        f"Largest N kept in real time (added p99 under {REAL_TIME_P99_MS:.0f} ms both ways, nothing lost): one worker "
        f"**{largest_real_time(capacity, '1 worker')}**, two workers **{largest_real_time(capacity, '2 workers')}**.",
    ]
    return lines


def overload_section(overload: Figures, options: Options, sweep: Sweep) -> list[str]:
    admitted = overload.clients - overload.refused - len(overload.failures)
    highest = max(sweep.clients)
    direct = sweep.find("direct", highest)
    direct_up = ms(percentile(direct[0].uplink_ms, 99)) if direct else "-"
    direct_down = ms(percentile(direct[0].downlink_ms, 99)) if direct else "-"
    return [
        "### Offered more children than one worker holds",
        "",
        f"{overload.clients} clients connect to one worker (the service as `make run` starts it, "
        + f"`OVERLOAD_LAG_MS={OVERLOAD_LAG_MS}`"
        + (f", `MAX_CONNECTIONS_PER_WORKER={options.overload_cap}`" if options.overload_cap else "")
        + "), one every"
        f" {options.overload_ramp_seconds / overload.clients * 1000:.0f} ms; then a "
        f"{overload.seconds:.0f} s window. A refused client gets the `overloaded` error and close 1013 before anything "
        "is opened for it. Latency is that of the admitted children, absolute (the direct clients' p99 at "
        f"N = {highest} in the sweep above: {direct_up} ms up, {direct_down} ms down).",
        "",
        "| offered | admitted | refused (1013) | other failures | uplink p50 | p99 | downlink p50 | p99 | lost |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {overload.clients} | {admitted} | {overload.refused} | {len(overload.failures)} "
        f"| {ms(percentile(overload.uplink_ms, 50))} | {ms(percentile(overload.uplink_ms, 99))} "
        f"| {ms(percentile(overload.downlink_ms, 50))} | {ms(percentile(overload.downlink_ms, 99))} "
        f"| {overload.lost_uplink + overload.lost_downlink} |",
    ]


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,10,50,100,200", help="comma-separated N to measure")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window of each run")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the sweep, rotating the variants' order")
    parser.add_argument("--realtime-factor", type=float, default=4.0, help="how fast the emulator generates replies")
    parser.add_argument(
        "--wav", type=Path, help="a PCM WAV to stream, converted to 16 kHz mono (default: a synthesised question)"
    )
    parser.add_argument("--compare-ref", default="", help="also run the service from this git commit (before/after)")
    parser.add_argument(
        "--servers", default=DEFAULT_SERVER, help=f"how uvicorn runs the service, any of: {', '.join(SERVERS)}"
    )
    parser.add_argument("--profile", action="store_true", help="profile the service at the highest N with py-spy")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="then one long run, for memory growth")
    parser.add_argument(
        "--soak-clients", type=int, default=50, help="clients in the long run (default: what one worker holds here)"
    )
    parser.add_argument(
        "--capacity", default="", help="comma-separated N: one worker against two, on PostgreSQL and Redis"
    )
    parser.add_argument("--overload", type=int, default=0, help="offer this many clients to one worker")
    parser.add_argument(
        "--overload-ramp-seconds", type=float, default=30.0, help="how long the overloading clients take to connect"
    )
    parser.add_argument(
        "--overload-cap", type=int, default=0, help="MAX_CONNECTIONS_PER_WORKER in the overload run (default: none)"
    )
    parser.add_argument("--smoke", action="store_true", help="N = 2 for 3 s: checks that the harness works")
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.seconds, args.rounds = "2", 3.0, 1
    return Options(
        clients=[int(n) for n in str(args.clients).split(",")],
        seconds=args.seconds,
        rounds=args.rounds,
        realtime_factor=args.realtime_factor,
        wav=args.wav,
        compare_ref=args.compare_ref,
        profile=args.profile,
        soak_minutes=args.soak_minutes,
        soak_clients=args.soak_clients,
        servers=[server.strip() for server in args.servers.split(",")],
        capacity=[int(n) for n in str(args.capacity).split(",") if n.strip()],
        overload=args.overload,
        overload_ramp_seconds=args.overload_ramp_seconds,
        overload_cap=args.overload_cap,
    )


if __name__ == "__main__":
    started = time.perf_counter()
    print(uvloop.run(run(parse_options())))
    print(
        f"\n(ran in {time.perf_counter() - started:.0f} s; {machine()}; {datetime.now(UTC):%Y-%m-%d})", file=sys.stderr
    )
