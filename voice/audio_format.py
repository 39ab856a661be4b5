"""The audio the service speaks: sample rates, sample size and frame sizes, in one place (protocol.js mirrors it)."""

from __future__ import annotations

from typing import Final

INPUT_RATE_HZ: Final = 16_000  # the microphone, as the client sends it and as Gemini Live and the recogniser take it
OUTPUT_RATE_HZ: Final = 24_000  # the helper's voice, as Gemini Live and the offline voice make it
BYTES_PER_SAMPLE: Final = 2  # PCM16 little-endian, mono
FRAME_MS: Final = 20  # the frame a client is advised to send, and the one VAD works on
INPUT_FRAME_BYTES: Final = INPUT_RATE_HZ * FRAME_MS // 1000 * BYTES_PER_SAMPLE
MAX_AUDIO_FRAME_BYTES: Final = 64 * 1024
AUDIO_CODECS: Final = ("pcm", "opus")  # what a client may ask for each way (voice/codecs.py)
# RFC 6716 §3.4: an Opus frame is at most 1275 bytes. Packets of up to 60 ms (three frames, plus their table of
# contents) are accepted, so game engines that send 40 or 60 ms packets work too.
MAX_OPUS_PACKET_BYTES: Final = 3 * 1275 + 7


def pcm_mime_type(rate: int) -> str:
    """How the Live API names raw PCM16 at ``rate``."""
    return f"audio/pcm;rate={rate}"
