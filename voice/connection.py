"""A client connection's realtime core: decodes and limits frames, and owns and supervises the engine that answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, assert_never

from voice import protocol
from voice.archive import UplinkArchive
from voice.audio_format import BYTES_PER_SAMPLE, INPUT_RATE_HZ, MAX_AUDIO_FRAME_BYTES
from voice.codecs import DownlinkEncoder, PcmDownlink, PcmUplink, UplinkDecoder, WireFormats
from voice.context import GameState, Picture
from voice.engines.base import Engine, SendAudio, SendJson
from voice.images import DEFAULT_RULES, ImageRateLimited, ImageRejected, PictureDesk
from voice.limits import TIME_FOR_A_BREAK, ConnectionLimits, SpeakingBudget, TokenBucket
from voice.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CloseConnection = Callable[[int], Awaitable[None]]
SendText = Callable[[str], Awaitable[None]]

DEFAULT_LIMITS = ConnectionLimits()


class ClientLink:
    """The way back to the client. Once the socket is closing, sends are dropped instead of raising: an engine
    finishing a reply for a child who left must not fail its own cleanup.

    The helper's audio goes through the downlink encoder the client negotiated (PCM as it is, or Opus packets), so
    every engine in every mode speaks the client's codec unchanged. An encoder holds back what does not fill a
    frame: the reply's end (``turn_complete``) sends it, and ``interrupted`` (the client drops its queued audio)
    forgets it, along with the packets of a chunk still being sent.
    """

    def __init__(
        self,
        *,
        send_text: SendText,
        send_bytes: SendAudio,
        close: CloseConnection,
        downlink: DownlinkEncoder | None = None,
    ) -> None:
        self._send_text = send_text
        self._send_bytes = send_bytes
        self._close = close
        self._downlink: DownlinkEncoder = downlink or PcmDownlink()
        self._cuts = 0  # how many times the client was told to drop its queued audio
        self.closed_with: int | None = None
        self.gone = False

    def encode_with(self, downlink: DownlinkEncoder) -> None:
        """Speak the codec the client negotiated from now on."""
        self._downlink = downlink

    async def send_json(self, message: dict[str, Any]) -> None:
        if self.gone:
            return
        text = json.dumps(message, separators=(",", ":"))  # outside the try: a bad message is our bug, not the client's
        kind = message.get("type")
        if kind == protocol.ServerMessageType.INTERRUPTED:
            self._cuts += 1
            self._downlink.drop()
        elif kind == protocol.ServerMessageType.TURN_COMPLETE:
            await self._send_packets(self._downlink.flush())
        try:
            await self._send_text(text)
        except (OSError, RuntimeError) as error:  # the transport's ways of saying the client is gone
            self._lost(error)

    async def send_audio(self, pcm: bytes) -> None:
        if self.gone:
            return
        await self._send_packets(self._downlink.encode(pcm))

    async def _send_packets(self, packets: list[bytes]) -> None:
        cuts = self._cuts
        for packet in packets:
            if self.gone or self._cuts != cuts:  # cut off meanwhile: the client no longer wants the rest
                return
            try:
                await self._send_bytes(packet)
            except (OSError, RuntimeError) as error:
                self._lost(error)

    async def close(self, code: int) -> None:
        """Close the socket with ``code``; the first close wins."""
        if self.closed_with is not None:
            return
        self.closed_with = code
        try:
            await self._close(code)
        except (OSError, RuntimeError) as error:
            self._lost(error)
        self.gone = True

    def disconnected(self) -> None:
        """The client's side is closed: nothing more can reach it."""
        self.gone = True

    def _lost(self, error: BaseException) -> None:
        logger.info("Client gone while sending (%s); later messages are dropped", type(error).__name__)
        self.gone = True


class ChatConnection:
    """Decodes client frames, answers pings and bad frames itself, enforces the connection's limits, and hands the
    rest to its engine, whose :meth:`Engine.run` it runs in a task it owns and supervises.

    An unexpected exception from the engine (in its task, or while it takes a frame) is logged once with its
    traceback; the client gets an ``internal`` error and close 1011. :meth:`close` releases what the connection
    holds whatever happened before.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        send_json: SendJson,
        close: CloseConnection | None = None,
        max_text_chars: int = protocol.DEFAULT_MAX_TEXT_CHARS,
        archive: UplinkArchive | None = None,
        limits: ConnectionLimits = DEFAULT_LIMITS,
        speaking_budget: SpeakingBudget | None = None,
        pictures: PictureDesk | None = None,
        uplink: UplinkDecoder | None = None,
        name: str = "",
    ) -> None:
        self.engine = engine
        self._uplink: UplinkDecoder = uplink or PcmUplink()
        self._send_json = send_json
        self._close = close
        self._max_text_chars = max_text_chars
        self._archive = archive
        self._limits = limits
        self._frames = TokenBucket(limits.frames_per_second, limits.burst_seconds)
        self._bytes = TokenBucket(limits.audio_bytes_per_second, limits.burst_seconds)
        self._flood_started: float | None = None
        self._last_dropped = 0.0
        self._budget = speaking_budget
        self._pictures = pictures
        self._max_image_bytes = pictures.rules.max_bytes if pictures is not None else DEFAULT_RULES.max_bytes
        self._unbilled_seconds = 0.0
        self._billing: asyncio.Task[None] | None = None
        self._name = name
        self._runner: asyncio.Task[None] | None = None
        self._closed = False
        self.closed_with: int | None = None

    def start(self) -> None:
        """Start the engine in a task this connection owns."""
        if self._runner is None and not self._closed:
            self._runner = asyncio.create_task(self._run_engine(), name=f"engine:{self._name}")

    async def _run_engine(self) -> None:
        try:
            await self.engine.run()
        except Exception:
            logger.exception("The engine of connection %s failed", self._name)
            await self.fail()

    async def fail(self) -> None:
        """An unexpected failure: tell the client, and close 1011. The consumer's disconnect then cleans up."""
        await self._refuse(
            protocol.CloseCode.INTERNAL_ERROR,
            protocol.error_message(
                protocol.ErrorCode.INTERNAL, "Something went wrong on our side. Please connect again."
            ),
        )

    async def close(self) -> None:
        """Stop the engine and keep what was said; safe to call more than once, and every step runs."""
        if self._closed:
            return
        self._closed = True
        runner, self._runner = self._runner, None
        billing, self._billing = self._billing, None
        try:
            await cancel_and_wait(billing)
            await cancel_and_wait(runner)
            await self.engine.close()
        finally:
            self._uplink.close()
            if self._archive is not None:
                await self._archive.close()

    async def _refuse(self, code: protocol.CloseCode, last_words: dict[str, Any] | None = None) -> None:
        if self.closed_with is not None:
            return
        self.closed_with = code
        if last_words is not None:
            await self._send_json(last_words)
        if self._close is not None:
            await self._close(code)

    async def _within_rate(self, frames: int, audio_bytes: int) -> bool:
        """False when the frame breaks the rate limits: it is dropped. A flood (frames dropped with no calm second
        between them) gets one ``rate_limited`` error, and closes with 4029 once it has lasted ``flood_seconds``."""
        if self._frames.take(frames) and self._bytes.take(audio_bytes):
            return True
        now = time.monotonic()
        if self._flood_started is None or now - self._last_dropped > self._limits.calm_seconds:
            self._flood_started = now
            await self._send_json(
                protocol.error_message(protocol.ErrorCode.RATE_LIMITED, "Too many frames: some were dropped.")
            )
        elif now - self._flood_started >= self._limits.flood_seconds:
            await self._refuse(protocol.CloseCode.LIMIT_REACHED)
        self._last_dropped = now
        return False

    async def receive_text(self, raw: str) -> None:
        if self.closed_with is not None or self._closed:
            return
        # Only an ``image`` message may be larger than a text frame; its limit is checked before it is parsed.
        large = _utf8_size(raw, self._limits.max_text_frame_bytes) > self._limits.max_text_frame_bytes
        if large and (not _may_be_image(raw) or len(raw) > self._limits.max_image_frame_bytes):
            await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)
            return
        if not await self._within_rate(1, 0):
            return
        try:
            message = protocol.decode_client_message(
                raw,
                max_text_chars=self._max_text_chars,
                max_image_bytes=self._max_image_bytes,
                check_audio=self._uplink.check,
            )
        except protocol.ProtocolError as error:
            if large and error.code not in _IMAGE_ERRORS:
                await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)  # a large frame that was no image after all
            else:
                await self._send_json(protocol.error_message(error.code, error.message))
            return
        if large and not isinstance(message, protocol.ImageInput):
            await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)
            return
        try:
            match message:
                case protocol.Ping():
                    await self._send_json(protocol.pong_message())
                case protocol.TextInput(content=content):
                    await self.engine.text(content)
                case protocol.AudioInput(pcm=frame):
                    # base64 audio is audio: it pays the byte limit like a binary frame (its frame is paid above).
                    if await self._within_rate(0, len(frame)):
                        await self._decoded_audio(frame)
                case protocol.AudioEnd():
                    await self.engine.audio_end()
                case protocol.PlaybackReport(played_samples=played):
                    await self.engine.playback(played)
                case protocol.ImageInput(data=data):
                    await self._picture(data)
                case protocol.GameStateInput(state=state):
                    await self.engine.game_state(state)
                case protocol.Auth():
                    pass  # already authenticated: a client may send its token first whatever it put in the URL
                case _:
                    assert_never(message)
        except Exception:
            logger.exception("Connection %s failed on a %s message", self._name, type(message).__name__)
            await self.fail()

    async def _picture(self, data: bytes) -> None:
        if self._pictures is None:
            await self._send_json(
                protocol.error_message(protocol.ErrorCode.INVALID_IMAGE, "This connection does not take pictures.")
            )
            return
        try:
            picture = await self._pictures.accept(data)
        except ImageRejected as rejected:
            code = protocol.ErrorCode.IMAGE_TOO_LARGE if rejected.too_large else protocol.ErrorCode.INVALID_IMAGE
            await self._send_json(protocol.error_message(code, rejected.message))
            return
        except ImageRateLimited as limited:
            await self._send_json(protocol.error_message(protocol.ErrorCode.RATE_LIMITED, str(limited)))
            return
        await self.engine.image(picture)

    async def share(self, picture: Picture) -> None:
        """A picture that came in elsewhere (the REST upload, on any worker), already checked."""
        await self._from_elsewhere(self.engine.image(picture), "picture")

    async def report(self, state: GameState) -> None:
        """A game state that came in elsewhere (REST), already validated."""
        await self._from_elsewhere(self.engine.game_state(state), "game state")

    async def _from_elsewhere(self, delivery: Coroutine[Any, Any, None], what: str) -> None:
        if self.closed_with is not None or self._closed:
            delivery.close()
            return
        try:
            await delivery
        except Exception:
            logger.exception("Connection %s failed on a %s from REST", self._name, what)
            await self.fail()

    async def receive_bytes(self, data: bytes) -> None:
        if self.closed_with is not None or self._closed:
            return
        if len(data) > MAX_AUDIO_FRAME_BYTES:
            await self._refuse(protocol.CloseCode.MESSAGE_TOO_BIG)
            return
        # The limits count what came over the wire: compressed bytes when the client sends Opus.
        if not await self._within_rate(1, len(data)):
            return
        try:
            frame = self._uplink.check(data)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        try:
            await self._decoded_audio(frame)
        except Exception:
            logger.exception("Connection %s failed on an audio frame", self._name)
            await self.fail()

    async def _decoded_audio(self, frame: bytes) -> None:
        """A frame that does not decode gets an ``invalid_audio`` error; the session goes on."""
        try:
            pcm = self._uplink.decode(frame)
        except protocol.ProtocolError as error:
            await self._send_json(protocol.error_message(error.code, error.message))
            return
        await self._audio(pcm)

    async def _audio(self, pcm: bytes) -> None:
        if self._budget is not None:
            self._unbilled_seconds += len(pcm) / (BYTES_PER_SAMPLE * INPUT_RATE_HZ)
            if self._unbilled_seconds >= self._limits.billing_seconds and self._billing is None:
                seconds, self._unbilled_seconds = self._unbilled_seconds, 0.0
                self._billing = asyncio.create_task(self._bill(self._budget, seconds), name=f"billing:{self._name}")
        if self._archive is not None:
            self._archive.add(pcm)
        await self.engine.audio(pcm)

    async def _bill(self, budget: SpeakingBudget, seconds: float) -> None:
        """Count speaking time beside the audio, not in front of it: the shared store is a round trip away, and
        the frames behind would wait for it. The frames that came meanwhile are counted in the next bill."""
        try:
            if not await budget.spend(seconds):
                await self._refuse(protocol.CloseCode.LIMIT_REACHED, protocol.response_message(TIME_FOR_A_BREAK))
        except Exception:
            logger.exception("Counting the speaking time of connection %s failed", self._name)
            await self.fail()
        finally:
            self._billing = None


_IMAGE_ERRORS = (protocol.ErrorCode.INVALID_IMAGE, protocol.ErrorCode.IMAGE_TOO_LARGE)


def _may_be_image(raw: str) -> bool:
    """Whether a large frame announces itself as an ``image`` message (its type comes before its content)."""
    head = raw[:200].replace(" ", "")
    return '"type":"image"' in head


def _utf8_size(text: str, limit: int) -> int:
    """The frame's size in bytes as it came over the wire; counted exactly only when it could be over ``limit``."""
    if len(text) * 4 <= limit:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class ConnectionRefused(Exception):
    """The client may not open this connection; the socket closes with ``code``."""

    def __init__(self, code: protocol.CloseCode) -> None:
        super().__init__(code.name)
        self.code = code


@dataclass(frozen=True)
class OpenedChat:
    """A connection ready to start, and the ``connection`` message that greets the client first."""

    connection: ChatConnection
    greeting: dict[str, Any]


class ConnectionFactory(Protocol):
    """Builds a client's connection (the consumer is given one); what it takes, it releases through ``resources``.
    ``wire`` is the audio codecs the client asked for in its URL."""

    async def __call__(
        self,
        session_id: str,
        token: str | None,
        link: ClientLink,
        resources: contextlib.AsyncExitStack,
        *,
        wire: WireFormats,
    ) -> OpenedChat:
        """Raises:
        ConnectionRefused: the client may not connect.
        """
        ...
