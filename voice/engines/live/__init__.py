"""The live engine: a client's conversation relayed to Gemini Live, across upstream limits and failures."""

from voice.engines.live.supervisor import MAX_AUDIO_BATCH_BYTES, LiveChat, LiveTimeouts

__all__ = ["MAX_AUDIO_BATCH_BYTES", "LiveChat", "LiveTimeouts"]
