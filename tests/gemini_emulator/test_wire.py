"""Reading mixed-case keys and either base64 alphabet, as protobuf-JSON does."""

from __future__ import annotations

import base64

import pytest

from gemini_emulator import wire


def test_keys_are_read_in_either_spelling() -> None:
    sent = {
        "setup": {
            "generationConfig": {"speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}}}
        }
    }
    normalized = wire.normalize_keys(sent)
    assert (
        normalized["setup"]["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"]
        == "Kore"
    )


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_blob_data_in_either_alphabet(encode) -> None:
    data = bytes(range(256))
    assert wire.decode_blob_data(encode(data).decode()) == data


def test_blob_data_that_is_not_base64_is_an_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        wire.decode_blob_data("!!!")


@pytest.mark.parametrize(("value", "seconds"), [("50s", 50.0), ("1.5s", 1.5), (3, 3.0), ("soon", 9.0)])
def test_durations(value, seconds: float) -> None:
    assert wire.duration_seconds(value, default=9.0) == seconds
