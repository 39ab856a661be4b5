"""The connection: decodes and routes client frames, and runs its engine."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest

from tests.voice.fakes import RecordingEngine
from voice import protocol
from voice.audio_format import INPUT_FRAME_BYTES, INPUT_RATE_HZ, MAX_OPUS_PACKET_BYTES, OUTPUT_RATE_HZ
from voice.codecs import OUTPUT_FRAME_BYTES, OpusDownlinkEncoder, OpusUplinkDecoder, OpusUplinkEncoder
from voice.connection import ChatConnection, ClientLink
from voice.context import ConversationContext, LevelContext
from voice.limits import ConnectionLimits
from voice.protocol import ProtocolError

CONTEXT = ConversationContext("s1", 6, LevelContext("Level", "A level."))


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def connection(engine: RecordingEngine, sent: list[dict[str, Any]]) -> ChatConnection:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return ChatConnection(engine=engine, send_json=send, max_text_chars=10)


async def test_ping_is_answered_without_the_engine(connection, engine, sent) -> None:
    await connection.receive_text('{"type":"ping"}')
    assert sent == [{"type": "pong"}]
    assert engine.calls == []


async def test_frames_are_routed_to_the_engine(connection, engine) -> None:
    await connection.receive_text(json.dumps({"type": "text", "content": " hi "}))
    await connection.receive_bytes(b"\x01\x00" * 4)
    await connection.receive_text(json.dumps({"type": "audio_base64", "content": "AQABAA=="}))
    await connection.receive_text('{"type":"audio_end"}')
    await connection.receive_text('{"type":"playback","played_samples":2400}')
    assert engine.calls == [
        ("text", "hi"),
        ("audio", b"\x01\x00" * 4),
        ("audio", b"\x01\x00\x01\x00"),
        ("audio_end", None),
        ("playback", 2400),
    ]


@pytest.mark.parametrize(
    ("frame", "code"),
    [('{"type":"text","content":"far too long text"}', "text_too_long"), ("nope", "invalid_json")],
)
async def test_bad_text_frames_get_an_error_and_reach_no_engine(connection, engine, sent, frame, code) -> None:
    await connection.receive_text(frame)
    assert sent[0]["code"] == code
    assert engine.calls == []


async def test_bad_audio_frames_get_an_error_and_reach_no_engine(connection, engine, sent) -> None:
    await connection.receive_bytes(b"\x01")
    assert sent[0]["code"] == "invalid_audio"
    assert engine.calls == []


async def test_start_runs_the_engine_and_close_stops_then_closes_it(connection, engine) -> None:
    connection.start()
    await asyncio.wait_for(engine.running.wait(), 1)
    await connection.close()
    assert engine.calls == [("run", None), ("cancelled", None), ("close", None)]


async def test_the_uplink_is_archived_only_when_an_archive_is_given(engine, sent, tmp_path) -> None:
    from voice.archive import UplinkArchive

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    archive = UplinkArchive(tmp_path, "s1")
    connection = ChatConnection(engine=engine, send_json=send, archive=archive)
    await connection.receive_bytes(b"\x01\x00" * 4)
    await connection.receive_bytes(b"\x01")  # refused: not archived
    await connection.close()
    assert archive.path.read_bytes() == b"\x01\x00" * 4


# --- Opus on the wire -----------------------------------------------------------------------------


def opus_connection(engine: RecordingEngine, sent: list[dict[str, Any]], limits: ConnectionLimits) -> ChatConnection:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return ChatConnection(engine=engine, send_json=send, uplink=OpusUplinkDecoder(), limits=limits)


def spoken_packets(count: int) -> list[bytes]:
    t = np.arange(count * INPUT_FRAME_BYTES // 2) / INPUT_RATE_HZ
    pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
    return OpusUplinkEncoder().encode(pcm)


async def test_opus_packets_reach_the_engine_as_16_khz_pcm_on_both_paths(engine, sent) -> None:
    connection = opus_connection(engine, sent, ConnectionLimits())
    first, second = spoken_packets(2)
    await connection.receive_bytes(first)
    await connection.receive_text(json.dumps({"type": "audio_base64", "content": base64.b64encode(second).decode()}))
    assert [(call, len(pcm)) for call, pcm in engine.calls] == [("audio", INPUT_FRAME_BYTES)] * 2
    assert sent == []


async def test_a_corrupt_packet_mid_stream_gets_an_error_and_the_stream_goes_on(engine, sent) -> None:
    connection = opus_connection(engine, sent, ConnectionLimits())
    before, after = spoken_packets(2)
    await connection.receive_bytes(before)
    await connection.receive_bytes(b"\xff\xff\xff\x00\x01")
    await connection.receive_text(json.dumps({"type": "audio_base64", "content": "//////8="}))
    await connection.receive_bytes(after)
    assert [message["code"] for message in sent] == ["invalid_audio", "invalid_audio"]
    assert [call for call, _ in engine.calls] == ["audio", "audio"]
    assert connection.closed_with is None


async def test_an_oversized_opus_packet_gets_an_error_not_a_close(engine, sent) -> None:
    connection = opus_connection(engine, sent, ConnectionLimits())
    await connection.receive_bytes(b"\x01" * (MAX_OPUS_PACKET_BYTES + 1))
    assert sent[0]["code"] == "invalid_audio"
    assert connection.closed_with is None
    assert engine.calls == []


async def test_the_byte_limit_counts_compressed_opus_bytes(engine, sent) -> None:
    packets = spoken_packets(10)
    compressed = sum(map(len, packets))
    # A byte budget far below the decoded PCM (10 x 640 bytes) but above the compressed packets lets all through.
    limits = ConnectionLimits(audio_bytes_per_second=compressed, burst_seconds=1.0)
    connection = opus_connection(engine, sent, limits)
    for packet in packets:
        await connection.receive_bytes(packet)
    assert compressed < 10 * INPUT_FRAME_BYTES
    assert len(engine.calls) == 10
    assert sent == []
    await connection.receive_bytes(packets[0])
    await connection.receive_bytes(packets[1])
    assert any(message.get("code") == "rate_limited" for message in sent)


async def test_the_frame_limit_holds_for_opus_packets(engine, sent) -> None:
    connection = opus_connection(engine, sent, ConnectionLimits(frames_per_second=5, burst_seconds=1.0))
    for packet in spoken_packets(8):
        await connection.receive_bytes(packet)
    assert len(engine.calls) == 5
    assert sent[0]["code"] == "rate_limited"


async def test_closing_the_connection_releases_its_decoder(engine, sent) -> None:
    decoder = OpusUplinkDecoder()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    connection = ChatConnection(engine=engine, send_json=send, uplink=decoder)
    await connection.close()
    with pytest.raises(ProtocolError):
        decoder.decode(spoken_packets(1)[0])


class WireRecorder:
    def __init__(self) -> None:
        self.frames: list[bytes | dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.frames.append(json.loads(text))

    async def send_bytes(self, data: bytes) -> None:
        self.frames.append(data)
        await asyncio.sleep(0)  # a real socket yields: an interruption can come between two packets

    async def close(self, code: int) -> None:
        pass


def opus_link(wire: WireRecorder) -> ClientLink:
    return ClientLink(
        send_text=wire.send_text, send_bytes=wire.send_bytes, close=wire.close, downlink=OpusDownlinkEncoder()
    )


def helper_voice(seconds: float) -> bytes:
    t = np.arange(int(seconds * OUTPUT_RATE_HZ)) / OUTPUT_RATE_HZ
    return (0.3 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes()


async def test_the_link_sends_opus_packets_and_the_tail_before_turn_complete() -> None:
    wire = WireRecorder()
    link = opus_link(wire)
    await link.send_audio(helper_voice(0.05))  # 2.5 frames: two packets now, the half frame held back
    assert [type(frame) for frame in wire.frames] == [bytes, bytes]
    await link.send_json(protocol.turn_complete_message(interrupted=False))
    assert isinstance(wire.frames[2], bytes), "the tail is flushed before the turn ends"
    assert wire.frames[3] == {"type": "turn_complete", "interrupted": False}
    assert all(len(frame) < OUTPUT_FRAME_BYTES for frame in wire.frames[:3])


async def test_an_interruption_drops_the_held_back_tail_and_the_rest_of_the_chunk() -> None:
    wire = WireRecorder()
    link = opus_link(wire)
    sending = asyncio.create_task(link.send_audio(helper_voice(0.5) + helper_voice(0.01)))
    await asyncio.sleep(0)  # the first packet is out
    await link.send_json(protocol.interrupted_message())
    await sending
    await link.send_json(protocol.turn_complete_message(interrupted=True))
    cut = wire.frames.index({"type": "interrupted"})
    assert cut < 3, "the chunk's later packets were not sent"
    assert wire.frames[cut + 1 :] == [{"type": "turn_complete", "interrupted": True}], "no tail after the cut"
