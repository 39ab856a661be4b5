"""The command-line client's WAV input."""

from __future__ import annotations

import base64
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from audio_chat.talk import game_state_message, image_message, read_wav_as_16k_mono


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int, width: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (44100, 2), (48000, 1)])
def test_any_rate_and_channel_count_becomes_16_khz_mono(tmp_path: Path, rate: int, channels: int) -> None:
    tone = (np.sin(np.arange(rate) / rate * 2 * np.pi * 440) * 12000).astype("<i2")
    write_wav(tmp_path / "in.wav", np.repeat(tone, channels), rate, channels, 2)
    pcm = read_wav_as_16k_mono(tmp_path / "in.wav")
    out = np.frombuffer(pcm, "<i2")
    assert abs(len(out) - 16000) <= 2
    expected_rms = 12000 / 32768 / np.sqrt(2)  # a sine of that amplitude, kept through resampling and downmix
    assert abs(np.sqrt(np.mean((out / 32768.0) ** 2)) - expected_rms) < 0.02


def test_24_bit_wav_is_refused_clearly(tmp_path: Path) -> None:
    write_wav(tmp_path / "in.wav", np.zeros(300, np.uint8), 16000, 1, 3)
    with pytest.raises(SystemExit, match="24-bit"):
        read_wav_as_16k_mono(tmp_path / "in.wav")


def test_an_image_becomes_an_image_message_with_the_files_bytes(tmp_path: Path) -> None:
    (tmp_path / "screen.png").write_bytes(b"\x89PNG a picture")
    message = json.loads(image_message(tmp_path / "screen.png"))
    assert message["type"] == "image"
    assert base64.b64decode(message["content"]) == b"\x89PNG a picture"


def test_a_missing_image_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="No such file"):
        image_message(tmp_path / "missing.png")


def test_the_game_state_must_be_a_json_object() -> None:
    assert game_state_message('{"step": "door"}') == '{"type": "game_state", "state": {"step": "door"}}'
    with pytest.raises(SystemExit, match="JSON object"):
        game_state_message("[1, 2]")
    with pytest.raises(SystemExit, match="not JSON"):
        game_state_message("{step")
