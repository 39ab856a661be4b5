"""The audio codecs on the wire: what a client negotiated per direction, the uplink decoder and the downlink encoder.

PCM16 is the default both ways. Opus (raw packets, one per binary message, 20 ms) is asked for with ``?codec=opus``,
or per direction with ``codec_in``/``codec_out``: the engines only ever see 16 kHz PCM in and send 24 kHz PCM out.
libopus comes from ``opuslib-next-bundled`` (its wheels carry the library), through its plain C API.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import opuslib_next

from voice import protocol
from voice.audio_format import BYTES_PER_SAMPLE, FRAME_MS, INPUT_RATE_HZ, MAX_OPUS_PACKET_BYTES, OUTPUT_RATE_HZ

MAX_OPUS_PACKET_MS: Final = 120  # the longest packet Opus has: the decoder's buffer is sized for it
DEFAULT_OPUS_BITRATE: Final = 24_000  # bits per second for the helper's voice (docs/benchmarks.md)
DEFAULT_OPUS_COMPLEXITY: Final = 3  # 0-10: the encoder's CPU per frame against quality (docs/benchmarks.md)
OUTPUT_FRAME_SAMPLES: Final = OUTPUT_RATE_HZ * FRAME_MS // 1000
OUTPUT_FRAME_BYTES: Final = OUTPUT_FRAME_SAMPLES * BYTES_PER_SAMPLE
_MAX_DECODED_SAMPLES: Final = INPUT_RATE_HZ * MAX_OPUS_PACKET_MS // 1000


class Codec(enum.StrEnum):
    PCM = "pcm"
    OPUS = "opus"


class UnsupportedCodec(Exception):
    """The client asked for a codec the service does not speak; the socket closes with 1003."""


@dataclass(frozen=True)
class WireFormats:
    """The codec of each direction, as negotiated when the client connected."""

    uplink: Codec = Codec.PCM
    downlink: Codec = Codec.PCM

    def describe(self, *, opus_bitrate: int = DEFAULT_OPUS_BITRATE) -> dict[str, dict[str, object]]:
        """The ``audio_format`` of the ``connection`` message: what travels each way."""
        return {
            "input": _describe(self.uplink, INPUT_RATE_HZ, bitrate=None),
            "output": _describe(self.downlink, OUTPUT_RATE_HZ, bitrate=opus_bitrate),
        }


PCM_BOTH_WAYS: Final = WireFormats()


def _describe(codec: Codec, rate: int, *, bitrate: int | None) -> dict[str, object]:
    if codec is Codec.PCM:
        return {"codec": "pcm", "encoding": "pcm_s16le", "sample_rate": rate, "channels": 1, "frame_ms": FRAME_MS}
    described: dict[str, object] = {
        "codec": "opus",
        "encoding": "opus",
        "sample_rate": rate,
        "channels": 1,
        "frame_ms": FRAME_MS,
    }
    if bitrate is not None:
        described["bitrate"] = bitrate
    return described


def negotiate(query: Mapping[str, Sequence[str]]) -> WireFormats:
    """The formats a client asked for in its URL's query (as ``urllib.parse.parse_qs`` gives it).

    ``codec`` sets both directions; ``codec_in`` (client → server) and ``codec_out`` (server → client) override it.

    Raises:
        UnsupportedCodec: a value is not ``pcm`` or ``opus``.
    """
    both = _codec(query, "codec", Codec.PCM)
    return WireFormats(uplink=_codec(query, "codec_in", both), downlink=_codec(query, "codec_out", both))


def _codec(query: Mapping[str, Sequence[str]], name: str, default: Codec) -> Codec:
    values = query.get(name)
    if not values:
        return default
    value = values[-1].strip().lower()
    try:
        return Codec(value)
    except ValueError:
        known = ", ".join(codec.value for codec in Codec)
        raise UnsupportedCodec(f"{name}={values[-1]!r} is not supported; use one of: {known}.") from None


# --- uplink ---------------------------------------------------------------------------------------


class UplinkDecoder(Protocol):
    """Turns one client audio frame into 16 kHz PCM16 for the engines."""

    def check(self, frame: bytes) -> bytes:
        """The frame, if its size can be right (cheap: run before the rate limits count it).

        Raises:
            protocol.ProtocolError: the frame cannot be this codec's.
        """
        ...

    def decode(self, frame: bytes) -> bytes:
        """Raises:
        protocol.ProtocolError: the frame does not decode (the session goes on).
        """
        ...

    def close(self) -> None: ...


class PcmUplink:
    """PCM16 travels as it is."""

    def check(self, frame: bytes) -> bytes:
        return protocol.validate_pcm_frame(frame)

    def decode(self, frame: bytes) -> bytes:
        return frame

    def close(self) -> None:
        pass


class OpusUplinkDecoder:
    """Decodes raw Opus packets straight to 16 kHz: Opus packets do not depend on the rate they were encoded at, so
    a client may encode at 48 kHz (WebCodecs, most game-engine plugins) or 16 kHz alike."""

    def __init__(self) -> None:
        self._decoder: Any = opuslib_next.Decoder(INPUT_RATE_HZ, 1)

    def check(self, frame: bytes) -> bytes:
        return validate_opus_packet(frame)

    def decode(self, frame: bytes) -> bytes:
        if self._decoder is None:
            raise protocol.ProtocolError(protocol.ErrorCode.INVALID_AUDIO, "The connection is closing.")
        try:
            pcm: bytes = self._decoder.decode(frame, _MAX_DECODED_SAMPLES)
        except opuslib_next.OpusError as error:
            raise protocol.ProtocolError(
                protocol.ErrorCode.INVALID_AUDIO, f"Audio frame is not an Opus packet ({error})."
            ) from None
        if not pcm:
            raise protocol.ProtocolError(protocol.ErrorCode.INVALID_AUDIO, "Opus packet held no audio.")
        return pcm

    def close(self) -> None:
        self._decoder = None  # the binding frees libopus's state when the object goes


def validate_opus_packet(packet: bytes) -> bytes:
    """Raises:
    protocol.ProtocolError: the packet is empty, or larger than a 60 ms Opus packet can be.
    """
    if not packet:
        raise protocol.ProtocolError(protocol.ErrorCode.INVALID_AUDIO, "Audio frame is empty.")
    if len(packet) > MAX_OPUS_PACKET_BYTES:
        raise protocol.ProtocolError(
            protocol.ErrorCode.INVALID_AUDIO,
            f"Opus packet is {len(packet)} bytes; the limit is {MAX_OPUS_PACKET_BYTES} (send one 20 ms packet per "
            "message).",
        )
    return packet


def uplink_decoder(codec: Codec) -> UplinkDecoder:
    return OpusUplinkDecoder() if codec is Codec.OPUS else PcmUplink()


# --- downlink -------------------------------------------------------------------------------------


class DownlinkEncoder(Protocol):
    """Turns the helper's 24 kHz PCM16 into what the client plays: one binary message per item returned."""

    def encode(self, pcm: bytes) -> list[bytes]: ...

    def flush(self) -> list[bytes]:
        """What is held back, now (the reply ended)."""
        ...

    def drop(self) -> None:
        """Forget what is held back (the client was told to drop its queued audio)."""
        ...

    def close(self) -> None: ...


class PcmDownlink:
    """PCM16 travels as the engine sends it: nothing is held back."""

    def encode(self, pcm: bytes) -> list[bytes]:
        return [pcm]

    def flush(self) -> list[bytes]:
        return []

    def drop(self) -> None:
        pass

    def close(self) -> None:
        pass


class OpusDownlinkEncoder:
    """Encodes 24 kHz PCM16 into 20 ms Opus packets (the VOIP application: tuned for speech).

    Engines send chunks of any length: what does not fill a 20 ms frame waits for the next chunk, is padded with
    silence at the end of a reply (:meth:`flush`), and is forgotten when the reply is cut off (:meth:`drop`).
    """

    def __init__(self, *, bitrate: int = DEFAULT_OPUS_BITRATE, complexity: int = DEFAULT_OPUS_COMPLEXITY) -> None:
        encoder: Any = opuslib_next.Encoder(OUTPUT_RATE_HZ, 1, opuslib_next.APPLICATION_VOIP)
        encoder.bitrate = bitrate
        encoder.complexity = complexity
        self._encoder: Any = encoder
        self._pending = bytearray()

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    @property
    def lookahead_samples(self) -> int:
        """The encoder's own delay, in samples at 24 kHz."""
        return int(self._encoder.lookahead)

    def encode(self, pcm: bytes) -> list[bytes]:
        if self._encoder is None:
            return []
        self._pending += pcm
        whole = len(self._pending) - len(self._pending) % OUTPUT_FRAME_BYTES
        if not whole:
            return []
        view = memoryview(self._pending)
        try:
            packets = [
                self._encoder.encode(bytes(view[start : start + OUTPUT_FRAME_BYTES]), OUTPUT_FRAME_SAMPLES)
                for start in range(0, whole, OUTPUT_FRAME_BYTES)
            ]
        finally:
            view.release()
        del self._pending[:whole]
        return packets

    def flush(self) -> list[bytes]:
        if not self._pending:
            return []
        self._pending += bytes(OUTPUT_FRAME_BYTES - len(self._pending))
        return self.encode(b"")

    def drop(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        self._pending.clear()
        self._encoder = None  # the binding frees libopus's state when the object goes


def downlink_encoder(
    codec: Codec, *, bitrate: int = DEFAULT_OPUS_BITRATE, complexity: int = DEFAULT_OPUS_COMPLEXITY
) -> DownlinkEncoder:
    if codec is Codec.OPUS:
        return OpusDownlinkEncoder(bitrate=bitrate, complexity=complexity)
    return PcmDownlink()


class OpusDownlinkDecoder:
    """The client's side of the downlink, for Python clients (the talk CLI, tests, benchmarks): packets → 24 kHz."""

    def __init__(self, rate: int = OUTPUT_RATE_HZ) -> None:
        self._decoder: Any = opuslib_next.Decoder(rate, 1)
        self._max_samples = rate * MAX_OPUS_PACKET_MS // 1000

    def decode(self, packet: bytes) -> bytes:
        pcm: bytes = self._decoder.decode(packet, self._max_samples)
        return pcm


class OpusUplinkEncoder:
    """The client's side of the uplink, for Python clients: 16 kHz PCM16 → 20 ms Opus packets (VOIP)."""

    def __init__(self, *, bitrate: int = DEFAULT_OPUS_BITRATE, rate: int = INPUT_RATE_HZ) -> None:
        self._encoder: Any = opuslib_next.Encoder(rate, 1, opuslib_next.APPLICATION_VOIP)
        self._encoder.bitrate = bitrate
        self._frame_samples = rate * FRAME_MS // 1000
        self._frame_bytes = self._frame_samples * BYTES_PER_SAMPLE
        self._pending = bytearray()

    def encode(self, pcm: bytes) -> list[bytes]:
        self._pending += pcm
        packets = []
        while len(self._pending) >= self._frame_bytes:
            packets.append(self._encoder.encode(bytes(self._pending[: self._frame_bytes]), self._frame_samples))
            del self._pending[: self._frame_bytes]
        return packets

    def flush(self) -> list[bytes]:
        if not self._pending:
            return []
        self._pending += bytes(self._frame_bytes - len(self._pending))
        return self.encode(b"")
