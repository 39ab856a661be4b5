"""The emulator's WebSocket server: TLS, the upgrade checks, setup validation, turns, resumption and faults."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import re
import ssl
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from gemini_emulator import wire
from gemini_emulator.faults import NO_FAULTS, FaultPlan, FaultSchedule
from gemini_emulator.records import ConnectionRecord
from gemini_emulator.responders import Conversation, Responder, ScriptedResponder
from gemini_emulator.tls import EmulatorCertificate, make_certificate
from gemini_emulator.vad import FRAME_BYTES, EnergyVad, VadEvent

logger = logging.getLogger(__name__)

DEFAULT_MODELS: tuple[str, ...] = (
    "gemini-2.5-flash-native-audio-preview-09-2025",
    "gemini-2.5-flash-native-audio-preview-12-2025",
    "gemini-2.5-flash-native-audio-latest",
    "gemini-3.1-flash-live-preview",
    "gemini-3.8-live",
)
API_PATH = re.compile(
    r"^/+ws/+google\.ai\.generativelanguage\.(?P<version>v[0-9a-z]+)\.GenerativeService\."
    r"(?P<method>BidiGenerateContent(?:Constrained)?)$"
)
AUDIO_TOKENS_PER_SECOND = 25
OUTPUT_BYTES_PER_SECOND = 48_000
INPUT_BYTES_PER_SECOND = 32_000
SETUP_TIMEOUT_SECONDS = 30.0
INVALID_ARGUMENT = "Request contains an invalid argument."
INTERNAL_ERROR = "Internal error encountered."
DEADLINE_EXPIRED = "Deadline expired before operation could complete."
STALE_HANDLE_REASONS = {
    1007: "Invalid session resumption handle.",
    1008: "Session resumption handle is not valid or has expired.",
}
TOOL_RESPONSE_TIMEOUT_SECONDS = 10.0


class _Closed(Exception):
    """The emulator closed this connection on purpose."""


@dataclass
class _Reply:
    """A reply being voiced: how much of it the client has received."""

    text: str = ""
    sent_chunks: int = 0
    total_chunks: int = 0
    generation_complete: bool = False
    turn_complete: bool = False

    def delivered_text(self) -> str:
        if self.generation_complete or self.total_chunks == 0:
            return self.text
        words = self.text.split()
        return " ".join(words[: len(words) * self.sent_chunks // self.total_chunks])


@dataclass
class _SessionConfig:
    automatic_vad: bool = True
    interrupts: bool = True
    input_transcription: bool = False
    output_transcription: bool = False
    resumption: bool = False
    history_in_client_content: bool = False
    vad: EnergyVad = field(default_factory=EnergyVad)


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


class GeminiLiveEmulator:
    """A Gemini Live API (BidiGenerateContent) server on 127.0.0.1 for the real google-genai SDK.

    Point a client at it with ``HttpOptions(base_url=emulator.base_url, api_version="v1beta",
    async_client_args={"ssl": emulator.client_ssl_context()})`` and ``api_key=emulator.api_key``.
    """

    def __init__(
        self,
        *,
        api_key: str = "emulator-key",
        models: Sequence[str] = DEFAULT_MODELS,
        responder: Responder | None = None,
        lifetime: float = 600.0,
        go_away_notice: float = 50.0,
        realtime_factor: float = 4.0,
        wait_for_playback: bool = True,
        chunk_ms: int = 200,
        burst_chunks: int = 5,
        fault_schedule: FaultSchedule | None = None,
        stale_handle_close_code: int = 1007,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate_dir: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.responder: Responder = responder or ScriptedResponder()
        self.lifetime = lifetime
        self.go_away_notice = go_away_notice
        self.realtime_factor = realtime_factor
        self.wait_for_playback = wait_for_playback
        self.chunk_bytes = OUTPUT_BYTES_PER_SECOND * chunk_ms // 1000
        self.burst_chunks = burst_chunks
        self.fault_schedule = fault_schedule
        self.stale_handle_close_code = stale_handle_close_code  # how a handle it does not know is refused
        self.records: list[ConnectionRecord] = []
        self.conversations: dict[str, Conversation] = {}
        self._host = host
        self._port = port
        self._certificate_dir = certificate_dir
        self._certificate: EmulatorCertificate | None = None
        self._server: Server | None = None
        self._queued_plans: list[FaultPlan] = []
        self._accepted: dict[int, tuple[FaultPlan, str, str]] = {}
        self._numbers = itertools.count(1)
        self.open_connections = 0

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> GeminiLiveEmulator:
        self._certificate = make_certificate(self._certificate_dir)
        self._server = await serve(
            self._handle,
            self._host,
            self._port,
            ssl=self._certificate.server_context,
            process_request=self._process_request,
            compression=None,
            max_size=16 * 1024 * 1024,
        )
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> GeminiLiveEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    @property
    def ca_file(self) -> Path:
        if self._certificate is None:
            raise RuntimeError("the emulator has not been started")
        return self._certificate.ca_file

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this emulator's certificate."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def queue_faults(self, *plans: FaultPlan) -> None:
        """The next connections get these plans, one each, in order."""
        self._queued_plans.extend(plans)

    def forget_handles(self, *, close_code: int | None = None) -> int:
        """Every resumption handle issued so far expires (as after a restart, or hours later); returns how many.

        A setup resuming with one is then closed with ``close_code`` (1007 or 1008; the emulator's
        ``stale_handle_close_code`` when not given, which it also becomes).
        """
        if close_code is not None:
            if close_code not in STALE_HANDLE_REASONS:
                raise ValueError(f"a stale handle is refused with one of: {sorted(STALE_HANDLE_REASONS)}")
            self.stale_handle_close_code = close_code
        forgotten = len(self.conversations)
        self.conversations.clear()
        return forgotten

    # --- the upgrade --------------------------------------------------------------------------

    def _next_plan(self, headers: Headers) -> FaultPlan:
        header = headers.get("x-emulator-faults")
        if header:
            return FaultPlan.from_json(header)
        if self._queued_plans:
            return self._queued_plans.pop(0)
        if self.fault_schedule is not None:
            return self.fault_schedule.next_plan()
        return NO_FAULTS

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        # Not urlsplit(): it would read the SDK's "//ws/…" path as a host name.
        path, _, raw_query = request.path.partition("?")
        query = parse_qs(raw_query)
        if path.startswith("/emulator/"):
            return self._control(connection, path, query)
        match = API_PATH.match(path)
        if match is None:
            return connection.respond(404, f"No such endpoint: {path}\n")
        key = (
            request.headers.get("x-goog-api-key")
            or (query.get("key") or query.get("access_token") or [""])[0]
            or request.headers.get("authorization", "").removeprefix("Token ")
        )
        if key != self.api_key:
            return connection.respond(401, "API key not valid. Please pass a valid API key.\n")
        try:
            plan = self._next_plan(request.headers)
        except ValueError as error:
            return connection.respond(400, f"{error}\n")
        if plan.reject_status is not None:
            return connection.respond(plan.reject_status, "Resource has been exhausted (e.g. check quota).\n")
        self._accepted[id(connection)] = (plan, match["version"], path)
        return None

    def _control(self, connection: ServerConnection, path: str, query: dict[str, list[str]]) -> Response:
        if path == "/emulator/faults" and "plan" in query:
            try:
                self.queue_faults(*(FaultPlan.from_json(plan) for plan in query["plan"]))
            except ValueError as error:
                return connection.respond(400, f"{error}\n")
            return connection.respond(200, json.dumps({"queued": len(self._queued_plans)}) + "\n")
        if path == "/emulator/transcripts" and "text" in query and isinstance(self.responder, ScriptedResponder):
            for text in query["text"]:
                self.responder.queue_transcript(text)
            return connection.respond(200, "{}\n")
        if path == "/emulator/forget-handles":
            try:
                code = int(query["close_code"][0]) if "close_code" in query else None
                forgotten = self.forget_handles(close_code=code)
            except ValueError as error:
                return connection.respond(400, f"{error}\n")
            return connection.respond(200, json.dumps({"forgotten": forgotten}) + "\n")
        if path == "/emulator/records":
            return connection.respond(200, json.dumps([r.summary() for r in self.records]) + "\n")
        return connection.respond(
            404,
            "Control endpoints: /emulator/faults?plan=, /emulator/transcripts?text=, "
            "/emulator/forget-handles?close_code=, /emulator/records\n",
        )

    async def _handle(self, connection: ServerConnection) -> None:
        plan, version, path = self._accepted.pop(id(connection), (NO_FAULTS, "v1beta", ""))
        record = ConnectionRecord(number=next(self._numbers), path=path, api_version=version)
        self.records.append(record)
        self.open_connections += 1
        try:
            await _LiveConnection(self, connection, plan, record).run()
        finally:
            self.open_connections -= 1
            record.ended_at = time.monotonic()


class _LiveConnection:
    """One client connection: reads client messages, runs VAD and turns, and applies its fault plan."""

    def __init__(
        self, emulator: GeminiLiveEmulator, ws: ServerConnection, plan: FaultPlan, record: ConnectionRecord
    ) -> None:
        self.emulator = emulator
        self.ws = ws
        self.plan = plan
        self.record = record
        self.config = _SessionConfig()
        self.conversation = Conversation(model="")
        self.turns = 0
        self.stalled = False
        self.seeding = False
        self.deferred: list[dict[str, Any]] = []
        self.reply: _Reply | None = None
        self.reply_task: asyncio.Task[None] | None = None
        self.prompt_tokens = 0
        self.tool_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.tool_calls = itertools.count(1)

    async def run(self) -> None:
        lifetime_task: asyncio.Task[None] | None = None
        try:
            await self._setup()
            lifetime_task = asyncio.create_task(self._lifetime())
            async for raw in self.ws:
                self.record.bytes_received += len(raw)  # JSON text is ASCII: characters are bytes
                await self._dispatch(raw)
        except _Closed:
            pass
        except ConnectionClosed:
            pass
        finally:
            for task in (lifetime_task, self.reply_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, _Closed, ConnectionClosed):
                        await task

    # --- sending and closing -------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        if self.stalled:
            return
        raw = wire.encode(message)
        self.record.bytes_sent += len(raw)
        await self.ws.send(raw)

    async def close(self, code: int, reason: str) -> NoReturn:
        self.record.closed_with = (code, reason)
        await self.ws.close(code, reason)
        raise _Closed(reason)

    # --- setup ------------------------------------------------------------------------------

    async def _setup(self) -> None:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=SETUP_TIMEOUT_SECONDS)
        except TimeoutError:
            await self.close(1007, "No setup message was received.")
        message = self._parse(raw)
        setup = message.get("setup") if message else None
        if not isinstance(setup, dict):
            await self.close(1007, INVALID_ARGUMENT)
        self.record.setup = setup
        model = str(setup.get("model") or "").removeprefix("models/")
        if not model:
            await self.close(1007, INVALID_ARGUMENT)
        if model not in self.emulator.models:
            await self.close(
                1008,
                f"models/{model} is not found for API version {self.record.api_version}, "
                "or is not supported for bidiGenerateContent",
            )
        modalities = _get(setup, "generationConfig", "responseModalities") or []
        if [str(m).upper() for m in modalities] != ["AUDIO"]:
            await self.close(1007, "Cannot extract voices from a non-audio request.")
        await self._configure(setup, model)
        if self.plan.setup_delay:
            await asyncio.sleep(self.plan.setup_delay)
        await self.send({"setupComplete": {}})
        if self.config.resumption:
            await self._send_handle()

    async def _configure(self, setup: dict[str, Any], model: str) -> None:
        config = self.config
        config.input_transcription = "inputAudioTranscription" in setup
        config.output_transcription = "outputAudioTranscription" in setup
        config.resumption = "sessionResumption" in setup
        config.history_in_client_content = bool(_get(setup, "historyConfig", "initialHistoryInClientContent"))
        self.seeding = config.history_in_client_content
        realtime = setup.get("realtimeInputConfig") or {}
        detection = realtime.get("automaticActivityDetection") or {}
        config.automatic_vad = not detection.get("disabled", False)
        config.interrupts = realtime.get("activityHandling", "START_OF_ACTIVITY_INTERRUPTS") != "NO_INTERRUPTION"
        onset = 120 if detection.get("startOfSpeechSensitivity") == "START_SENSITIVITY_LOW" else 60
        silence = 800 if detection.get("endOfSpeechSensitivity") == "END_SENSITIVITY_LOW" else 400
        config.vad = EnergyVad(
            onset_ms=int(detection.get("prefixPaddingMs", onset)),
            silence_ms=int(detection.get("silenceDurationMs", silence)),
        )
        instruction = _get(setup, "systemInstruction", "parts") or []
        system_instruction = " ".join(str(p.get("text", "")) for p in instruction if isinstance(p, dict))
        functions = tuple(
            str(declaration.get("name", ""))
            for tool in setup.get("tools") or []
            if isinstance(tool, dict)
            for declaration in tool.get("functionDeclarations") or []
            if isinstance(declaration, dict)
        )
        handle = str(_get(setup, "sessionResumption", "handle") or "")
        if handle:
            resumed = self.emulator.conversations.get(handle)
            if resumed is None:
                code = self.emulator.stale_handle_close_code
                await self.close(code, STALE_HANDLE_REASONS.get(code, INVALID_ARGUMENT))
            if resumed.model != model:
                await self.close(1007, "The model cannot change when a session is resumed.")
            self.conversation = Conversation(
                model=model, system_instruction=system_instruction, history=list(resumed.history), functions=functions
            )
            self.record.resumed_handle = handle
        else:
            self.conversation = Conversation(model=model, system_instruction=system_instruction, functions=functions)

    async def _send_handle(self) -> None:
        handle = f"emulator-{uuid.uuid4().hex}"
        self.emulator.conversations[handle] = Conversation(
            model=self.conversation.model,
            system_instruction=self.conversation.system_instruction,
            history=list(self.conversation.history),
        )
        await self.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})

    async def _lifetime(self) -> None:
        if self.plan.go_away_after is not None:
            await asyncio.sleep(self.plan.go_away_after)
            time_left = self.plan.go_away_time_left
        else:
            lifetime = self.plan.lifetime if self.plan.lifetime is not None else self.emulator.lifetime
            time_left = min(self.emulator.go_away_notice, lifetime / 2)
            await asyncio.sleep(lifetime - time_left)
        await self.send({"goAway": {"timeLeft": wire.format_duration(time_left)}})
        await asyncio.sleep(time_left)
        with contextlib.suppress(_Closed):
            await self.close(1011, DEADLINE_EXPIRED)

    # --- client messages ----------------------------------------------------------------------

    def _parse(self, raw: str | bytes) -> dict[str, Any] | None:
        try:
            message = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return wire.normalize_keys(message) if isinstance(message, dict) else None

    async def _dispatch(self, raw: str | bytes) -> None:
        message = self._parse(raw)
        if message is None or len(message) != 1:
            await self.close(1007, INVALID_ARGUMENT)
        if self.seeding and "realtimeInput" in message:
            # With historyConfig the service waits for the seeded history before realtime input.
            self.deferred.append(message)
            return
        if "realtimeInput" in message:
            await self._realtime_input(message["realtimeInput"])
        elif "clientContent" in message:
            await self._client_content(message["clientContent"])
        elif "toolResponse" in message:
            self._tool_response(message["toolResponse"])
        elif "contextUpdate" in message:
            instruction = _get(message, "contextUpdate", "systemInstruction", "parts") or []
            self.conversation.system_instruction = " ".join(str(p.get("text", "")) for p in instruction)
        else:
            await self.close(1007, INVALID_ARGUMENT)

    def _tool_response(self, response: dict[str, Any]) -> None:
        self.record.tool_responses.append(response)
        for answer in response.get("functionResponses") or []:
            waiter = self.tool_waiters.pop(str(answer.get("id", "")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(dict(answer.get("response") or {}))

    async def _image(self, blob: dict[str, Any]) -> None:
        """A realtime image (a video frame): kept in the record; the scripted model does not look at it."""
        mime = str(blob.get("mimeType", ""))
        if mime not in ("image/jpeg", "image/png", "image/webp"):
            await self.close(1007, INVALID_ARGUMENT)
        try:
            data = wire.decode_blob_data(str(blob.get("data", "")))
        except ValueError:
            await self.close(1007, INVALID_ARGUMENT)
        self.record.images.append((mime, data))
        self.prompt_tokens += 258  # what the service bills for one image frame

    async def _realtime_input(self, realtime: dict[str, Any]) -> None:
        media = realtime.get("video") or (realtime.get("mediaChunks") or [{}])[0]
        if "video" in realtime or str(media.get("mimeType", "")).startswith("image/"):
            await self._image(media)
        elif "audio" in realtime or "mediaChunks" in realtime:
            blob = realtime.get("audio") or (realtime.get("mediaChunks") or [{}])[0]
            if not str(blob.get("mimeType", "")).startswith("audio/pcm"):
                await self.close(1007, INVALID_ARGUMENT)
            try:
                pcm = wire.decode_blob_data(str(blob.get("data", "")))
            except ValueError:
                await self.close(1007, INVALID_ARGUMENT)
            self.record.add_audio(pcm)
            self.prompt_tokens += round(len(pcm) / INPUT_BYTES_PER_SECOND * AUDIO_TOKENS_PER_SECOND)
            await self._audio(pcm)
        elif "text" in realtime:
            text = str(realtime["text"])
            self.record.realtime_text.append(text)
            await self._interrupt()
            await self._start_turn(text, spoken=False)
        elif "activityStart" in realtime:
            self.record.activity.append("activityStart")
            if not self.config.automatic_vad:
                self.config.vad.in_speech = True
                self.config.vad.speech = bytearray()
                await self._interrupt()
        elif "activityEnd" in realtime:
            self.record.activity.append("activityEnd")
            if not self.config.automatic_vad and self.config.vad.end() is not None:
                await self._end_of_speech()
        elif "audioStreamEnd" in realtime:
            self.record.activity.append("audioStreamEnd")
            if self.config.automatic_vad and self.config.vad.end() is not None:
                await self._end_of_speech()

    async def _audio(self, pcm: bytes) -> None:
        vad = self.config.vad
        if not self.config.automatic_vad:
            if vad.in_speech:
                vad.speech.extend(pcm)
            return
        for event in vad.feed(pcm):
            if event is VadEvent.SPEECH_STARTED and self.config.interrupts:
                await self._interrupt()
            elif event is VadEvent.SPEECH_ENDED:
                await self._end_of_speech()

    async def _end_of_speech(self) -> None:
        speech = self.config.vad.take_speech()
        if len(speech) < FRAME_BYTES:
            return
        transcript = await self.emulator.responder.transcribe(speech)
        await self._start_turn(transcript, spoken=True)

    async def _client_content(self, content: dict[str, Any]) -> None:
        self.record.client_content.append(content)
        turns = content.get("turns") or []
        for turn in turns:
            text = " ".join(str(p.get("text", "")) for p in turn.get("parts", []) if isinstance(p, dict)).strip()
            if text:
                self.conversation.history.append(("model" if turn.get("role") == "model" else "user", text))
        if not content.get("turnComplete"):
            return
        if self.seeding:
            self.seeding = False
            for message in self.deferred:
                await self._realtime_input(message["realtimeInput"])
            self.deferred.clear()
            return
        await self._interrupt()
        history = self.conversation.history
        if history and history[-1][0] == "user":
            user_text = history.pop()[1]
            await self._start_turn(user_text, spoken=False)

    # --- turns --------------------------------------------------------------------------------

    async def _start_turn(self, user_text: str, *, spoken: bool) -> None:
        if self.stalled:
            return
        self.turns += 1
        if spoken and self.config.input_transcription:
            await self.send({"serverContent": {"inputTranscription": {"text": user_text}}})
        self.reply = _Reply()
        # With interrupts off a reply still being spoken is not replaced: the new one follows it, as Live queues it.
        self.reply_task = asyncio.create_task(
            self._after(self.reply_task, functools.partial(self._voice_reply, self.turns, user_text, self.reply))
        )

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, reply: Callable[[], Coroutine[Any, Any, None]]) -> None:
        # ``reply`` is made only once it runs: a task cancelled before it started leaves no coroutine unawaited.
        if previous is not None and not previous.done():
            await previous
        await reply()

    async def _interrupt(self) -> None:
        task, reply = self.reply_task, self.reply
        if task is None or task.done() or reply is None or reply.turn_complete or not self.config.interrupts:
            return
        pending_calls = list(self.tool_waiters)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if reply.text:  # the model had its answer; one still being thought of leaves no trace
            self.conversation.history.append(("model", reply.delivered_text()))
        if self.record.turns:  # an interruption can come before any turn was recorded
            self.record.turns[-1]["interrupted"] = "true"
        if pending_calls:
            await self.send({"toolCallCancellation": {"ids": pending_calls}})
        await self.send({"serverContent": {"interrupted": True}})
        await self.send({"serverContent": {"turnComplete": True}, "usageMetadata": self._usage(reply)})
        reply.turn_complete = True

    async def _voice_reply(self, turn: int, user_text: str, reply: _Reply) -> None:
        plan = self.plan
        if plan.stall_at_turn is not None and turn >= plan.stall_at_turn:
            self.stalled = True
            return
        if plan.malformed_frame_at_turn == turn:
            await self.ws.send(b"{this is not json")
            return
        tool_result = await self._call_tool(user_text)
        if tool_result is None:
            spoken = await self.emulator.responder.reply(self.conversation, user_text)
        else:
            spoken = await self.emulator.responder.reply(self.conversation, user_text, tool_result)
        self.conversation.history.append(("user", user_text))
        self.record.turns.append({"user": user_text, "model": spoken.text})
        reply.text = spoken.text
        chunk = self.emulator.chunk_bytes
        chunks = [spoken.audio[i : i + chunk] for i in range(0, len(spoken.audio), chunk)]
        reply.total_chunks = len(chunks)
        words = spoken.text.split()
        if self.config.resumption:
            await self.send({"sessionResumptionUpdate": {"resumable": False}})
        started = time.monotonic()
        for number, audio in enumerate(chunks):
            if plan.close_1011_at_turn == turn and number == plan.close_1011_after_chunks:
                await self.close(1011, INTERNAL_ERROR)
            part = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": wire.base64_standard(audio)}}
            await self.send({"serverContent": {"modelTurn": {"parts": [part]}}})
            if number == 0:
                self.record.reply_starts.append(len(self.record.sent_chunks))
            self.record.sent_chunks.append((time.monotonic(), len(audio)))
            reply.sent_chunks = number + 1
            if self.config.output_transcription:
                piece = words[len(words) * number // len(chunks) : len(words) * (number + 1) // len(chunks)]
                if piece:
                    await self.send({"serverContent": {"outputTranscription": {"text": " " + " ".join(piece)}}})
            if (number + 1) % self.emulator.burst_chunks == 0:
                # Generation runs faster than real time, in bursts, as the real service's does.
                burst_seconds = self.emulator.burst_chunks * chunk / OUTPUT_BYTES_PER_SECOND
                await asyncio.sleep(burst_seconds / self._realtime_factor())
        if plan.close_1011_at_turn == turn and plan.close_1011_after_chunks >= len(chunks):
            await self.close(1011, INTERNAL_ERROR)
        self.conversation.history.append(("model", spoken.text))
        reply.generation_complete = True
        await self.send({"serverContent": {"generationComplete": True}})
        if self.emulator.wait_for_playback:
            # turnComplete waits until the client has probably played the audio, as the real service does.
            playback = len(spoken.audio) / OUTPUT_BYTES_PER_SECOND
            await asyncio.sleep(max(0.0, playback - (time.monotonic() - started)))
        reply.turn_complete = True
        await self.send({"serverContent": {"turnComplete": True}, "usageMetadata": self._usage(reply)})
        if self.config.resumption:
            await self._send_handle()

    def _realtime_factor(self) -> float:
        pace = self.plan.realtime_factor
        return pace if pace is not None and pace > 0 else self.emulator.realtime_factor

    async def _call_tool(self, user_text: str) -> dict[str, Any] | None:
        """Call the function the responder asks for, and wait for the client's answer (as a model waits for a
        blocking call; a NON_BLOCKING one would let it talk meanwhile, which a scripted model has nothing to say
        for)."""
        request = self.emulator.responder.tool_call(self.conversation, user_text)
        if request is None:
            return None
        call_id = f"call-{next(self.tool_calls)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.tool_waiters[call_id] = waiter
        call = {"id": call_id, "name": request.name, "args": request.args}
        self.record.tool_calls.append(call)
        await self.send({"toolCall": {"functionCalls": [call]}})
        try:
            return await asyncio.wait_for(waiter, TOOL_RESPONSE_TIMEOUT_SECONDS)
        except TimeoutError:
            return {"note": "the function did not answer"}
        finally:
            self.tool_waiters.pop(call_id, None)

    def _usage(self, reply: _Reply) -> dict[str, Any]:
        sent_seconds = reply.sent_chunks * self.emulator.chunk_bytes / OUTPUT_BYTES_PER_SECOND
        response_tokens = round(sent_seconds * AUDIO_TOKENS_PER_SECOND)
        prompt_tokens, self.prompt_tokens = self.prompt_tokens, 0
        prompt_tokens += len(" ".join(text for _, text in self.conversation.history)) // 4
        return {
            "promptTokenCount": prompt_tokens,
            "responseTokenCount": response_tokens,
            "totalTokenCount": prompt_tokens + response_tokens,
            "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": prompt_tokens}],
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": response_tokens}],
        }
