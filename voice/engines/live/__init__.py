"""The live engine: a client's conversation relayed to Gemini Live, across upstream limits and failures."""

from voice.engines.live.supervisor import LiveChat, LiveTimeouts
from voice.engines.live.uplink import MAX_AUDIO_BATCH_BYTES

__all__ = ["MAX_AUDIO_BATCH_BYTES", "LiveChat", "LiveTimeouts"]
