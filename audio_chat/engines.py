"""Builds a session's conversation and the engine that runs a connection's turns: Live, text or offline."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable

from django.conf import settings

from audio_chat import brains
from audio_chat.models import ChatSession
from audio_chat.services import DjangoConversationStore, conversation_context
from voice.context import Mode
from voice.conversation import Conversation
from voice.engines.base import Engine, SendAudio, SendJson
from voice.engines.live import LiveChat, LiveTimeouts
from voice.engines.spoken import SpokenChat
from voice.gemini.sdk import LiveUpstream
from voice.speech.embeddings import shared_embedder
from voice.speech.stt import StreamingTranscriber, shared_decoder_pool
from voice.speech.tts import SpeechSynthesizer, SpeechUnavailable, load_voice
from voice.speech.vad import VadSettings

logger = logging.getLogger(__name__)


@functools.cache
def offline_voice() -> SpeechSynthesizer | None:
    """The process-wide voice, or None (replies as text) when speech cannot be synthesised here."""
    try:
        return load_voice(settings.OFFLINE_VOICE, settings.SPEAKING_RATE)
    except SpeechUnavailable as missing:
        logger.warning("%s", missing)
        return None


def vad_settings() -> VadSettings:
    return VadSettings(
        aggressiveness=settings.VAD_AGGRESSIVENESS, onset_ms=settings.VAD_ONSET_MS, hangover_ms=settings.VAD_HANGOVER_MS
    )


def open_conversation(session: ChatSession) -> tuple[Conversation, DjangoConversationStore]:
    """The session's conversation with the text brain, and the store behind it (REST and WebSocket alike)."""
    store = DjangoConversationStore(session)
    conversation = Conversation(
        context=conversation_context(session),
        store=store,
        brain=brains.text_brain(),
        history_turns=settings.HISTORY_TURNS_FOR_BRAIN,
    )
    return conversation, store


def spoken_chat(conversation: Conversation, *, send_json: SendJson, send_audio: SendAudio) -> SpokenChat:
    return SpokenChat(
        conversation=conversation,
        send_json=send_json,
        send_audio=send_audio,
        transcriber=StreamingTranscriber(shared_decoder_pool(settings.STT_DECODERS)),
        voice=offline_voice(),
        vad=vad_settings(),
        lead_seconds=settings.REPLY_LEAD_SECONDS,
    )


def warm_up() -> None:
    """Load the offline models before the first connection, so none is loaded on the event loop."""
    shared_embedder().encode(["hello"])
    offline_voice()
    shared_decoder_pool(settings.STT_DECODERS).start()


# Live models that answered "not found" in this process; they are skipped from then on.
_GONE_LIVE_MODELS: set[str] = set()


def unavailable_live_models() -> set[str]:
    return set(_GONE_LIVE_MODELS)


def build_engine(
    conversation: Conversation, store: DjangoConversationStore, *, send_json: SendJson, send_audio: SendAudio
) -> Engine:
    """The engine for a new connection: Live when configured, with text mode as its fallback."""
    if brains.active_mode() is not Mode.LIVE:
        return spoken_chat(conversation, send_json=send_json, send_audio=send_audio)
    live = brains.live_settings()
    context = conversation.context

    def open_upstream(model: str, handle: str) -> Awaitable[LiveUpstream]:
        return LiveUpstream.open(live, context, model=model, handle=handle)

    return LiveChat(
        conversation=conversation,
        open_upstream=open_upstream,
        models=live.models,
        gone_models=_GONE_LIVE_MODELS,
        resumption=store,
        send_json=send_json,
        send_audio=send_audio,
        fallback=lambda: spoken_chat(conversation, send_json=send_json, send_audio=send_audio),
        timeouts=LiveTimeouts(stall_seconds=settings.LIVE_STALL_SECONDS),
    )


def reset() -> None:
    offline_voice.cache_clear()
    brains.reset()
    _GONE_LIVE_MODELS.clear()
