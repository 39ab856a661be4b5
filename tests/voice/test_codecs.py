"""The wire codecs: negotiation, the Opus uplink decoder, and the Opus downlink encoder's framing."""

from __future__ import annotations

import numpy as np
import pytest

from voice import protocol
from voice.audio_format import INPUT_FRAME_BYTES, MAX_OPUS_PACKET_BYTES
from voice.codecs import (
    OUTPUT_FRAME_BYTES,
    Codec,
    OpusDownlinkDecoder,
    OpusDownlinkEncoder,
    OpusUplinkDecoder,
    OpusUplinkEncoder,
    PcmDownlink,
    PcmUplink,
    UnsupportedCodec,
    WireFormats,
    negotiate,
)


def tone(seconds: float, rate: int, hz: float = 440.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t) * 32767).astype("<i2").tobytes()


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, WireFormats(Codec.PCM, Codec.PCM)),
        ({"codec": ["opus"]}, WireFormats(Codec.OPUS, Codec.OPUS)),
        ({"codec": ["OPUS"]}, WireFormats(Codec.OPUS, Codec.OPUS)),
        ({"codec_out": ["opus"]}, WireFormats(Codec.PCM, Codec.OPUS)),
        ({"codec": ["opus"], "codec_in": ["pcm"]}, WireFormats(Codec.PCM, Codec.OPUS)),
    ],
)
def test_codec_sets_both_directions_and_codec_in_or_out_overrides_one(query, expected) -> None:
    assert negotiate(query) == expected


def test_an_unknown_codec_is_refused_with_the_ones_that_exist() -> None:
    with pytest.raises(UnsupportedCodec, match="pcm, opus"):
        negotiate({"codec_in": ["mp3"]})


def test_the_formats_in_force_name_codec_rate_and_frame_duration() -> None:
    described = WireFormats(Codec.OPUS, Codec.PCM).describe(opus_bitrate=32_000)
    assert described["input"] == {
        "codec": "opus",
        "encoding": "opus",
        "sample_rate": 16_000,
        "channels": 1,
        "frame_ms": 20,
    }
    assert described["output"]["codec"] == "pcm"
    assert described["output"]["sample_rate"] == 24_000
    assert WireFormats().describe() == protocol.AUDIO_FORMATS


@pytest.mark.parametrize("client_rate", [16_000, 48_000])
def test_opus_packets_encoded_at_16_or_48_khz_decode_to_16_khz_pcm(client_rate) -> None:
    speech = tone(0.4, client_rate)
    packets = OpusUplinkEncoder(rate=client_rate).encode(speech)
    decoder = OpusUplinkDecoder()
    decoded = b"".join(decoder.decode(decoder.check(packet)) for packet in packets)
    assert len(packets) == 20
    assert len(decoded) == 20 * INPUT_FRAME_BYTES  # 20 ms of 16 kHz PCM16 per packet
    assert rms(decoded[len(decoded) // 2 :]) == pytest.approx(rms(speech), rel=0.3)


def test_a_packet_that_does_not_decode_raises_a_protocol_error_and_the_decoder_goes_on() -> None:
    decoder = OpusUplinkDecoder()
    with pytest.raises(protocol.ProtocolError) as bad:
        decoder.decode(b"\xff\xff\xff\x00\x01")
    assert bad.value.code == protocol.ErrorCode.INVALID_AUDIO
    good = OpusUplinkEncoder().encode(tone(0.02, 16_000))[0]
    assert len(decoder.decode(good)) == INPUT_FRAME_BYTES


@pytest.mark.parametrize("size", [0, MAX_OPUS_PACKET_BYTES + 1])
def test_empty_and_oversized_packets_are_refused_before_decoding(size) -> None:
    with pytest.raises(protocol.ProtocolError):
        OpusUplinkDecoder().check(b"\x01" * size)


def test_a_closed_decoder_refuses_packets() -> None:
    decoder = OpusUplinkDecoder()
    decoder.close()
    with pytest.raises(protocol.ProtocolError):
        decoder.decode(OpusUplinkEncoder().encode(tone(0.02, 16_000))[0])


def test_pcm_passes_through_both_ways_and_is_still_checked() -> None:
    assert PcmUplink().decode(PcmUplink().check(b"\x01\x00")) == b"\x01\x00"
    with pytest.raises(protocol.ProtocolError):
        PcmUplink().check(b"\x01")
    assert PcmDownlink().encode(b"abcd") == [b"abcd"]
    assert PcmDownlink().flush() == []


def test_the_downlink_holds_back_a_partial_frame_until_the_next_chunk() -> None:
    encoder = OpusDownlinkEncoder()
    speech = tone(0.05, 24_000)  # two and a half 20 ms frames
    assert len(encoder.encode(speech[:700])) == 0
    assert len(encoder.encode(speech[700:])) == 2
    assert encoder.pending_bytes == len(speech) - 2 * OUTPUT_FRAME_BYTES


def test_the_downlink_flush_pads_the_tail_into_one_last_packet() -> None:
    encoder = OpusDownlinkEncoder()
    encoder.encode(tone(0.05, 24_000))
    tail = encoder.flush()
    assert len(tail) == 1
    assert encoder.pending_bytes == 0
    assert encoder.flush() == []


def test_the_downlink_drop_forgets_the_tail() -> None:
    encoder = OpusDownlinkEncoder()
    encoder.encode(tone(0.05, 24_000))
    encoder.drop()
    assert encoder.flush() == []


def test_the_downlink_packets_decode_back_to_the_helper_voice_at_the_bitrate_asked() -> None:
    encoder = OpusDownlinkEncoder(bitrate=24_000)
    speech = tone(1.0, 24_000, hz=300)
    packets = encoder.encode(speech) + encoder.flush()
    decoder = OpusDownlinkDecoder()
    decoded = b"".join(decoder.decode(packet) for packet in packets)
    assert len(packets) == 50
    assert len(decoded) == len(speech)
    assert sum(map(len, packets)) * 8 < 1.3 * 24_000  # about the bitrate asked, a tenth of PCM's 384 kbit/s
    assert rms(decoded[len(decoded) // 2 :]) == pytest.approx(rms(speech), rel=0.3)


def test_a_closed_downlink_encodes_nothing() -> None:
    encoder = OpusDownlinkEncoder()
    encoder.close()
    assert encoder.encode(tone(0.1, 24_000)) == []
