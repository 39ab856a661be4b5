"""Wires the realtime core to Django: a session's conversation, the engine for a connection, and the factory that
builds a client's connection for the consumer."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable
from pathlib import Path

from django.conf import settings

from audio_chat import brains, limits, selectors
from audio_chat.db import db_async
from audio_chat.models import ChatSession
from audio_chat.services import DjangoConversationStore, conversation_context
from voice import codecs, metrics, protocol
from voice.archive import UplinkArchive
from voice.brains.offline import authored_replies
from voice.connection import ChatConnection, ClientLink, ConnectionRefused, OpenedChat
from voice.context import Mode
from voice.conversation import Conversation
from voice.engines.base import Engine, SendAudio, SendJson
from voice.engines.live import LiveChat, LiveTimeouts
from voice.engines.live.bargein import BargeInSettings
from voice.engines.spoken import SpokenChat
from voice.gemini.sdk import LiveUpstream
from voice.images import ImageRules, PictureDesk, PictureKeeper
from voice.limits import ConnectionLimits
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


def barge_in_settings() -> BargeInSettings:
    return BargeInSettings(
        aggressiveness=settings.BARGE_IN_VAD_AGGRESSIVENESS,
        min_speech_ms=settings.BARGE_IN_MIN_SPEECH_MS,
        min_level_dbfs=settings.BARGE_IN_MIN_LEVEL_DBFS,
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
    offline = conversation.brain.mode is Mode.OFFLINE  # Gemini's replies cannot be known ahead
    return SpokenChat(
        conversation=conversation,
        send_json=send_json,
        send_audio=send_audio,
        transcriber=StreamingTranscriber(shared_decoder_pool(settings.STT_DECODERS)),
        voice=offline_voice(),
        vad=vad_settings(),
        lead_seconds=settings.REPLY_LEAD_SECONDS,
        say_ahead=authored_replies(conversation.context.level) if offline else (),
    )


def warm_up() -> None:
    """Load the offline models before the first connection, so none is loaded on the event loop."""
    shared_embedder().encode(["hello"])
    offline_voice()
    shared_decoder_pool(settings.STT_DECODERS).start()


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
        roster=brains.live_roster(),
        resumption=store,
        send_json=send_json,
        send_audio=send_audio,
        fallback=lambda: spoken_chat(conversation, send_json=send_json, send_audio=send_audio),
        timeouts=LiveTimeouts(stall_seconds=settings.LIVE_STALL_SECONDS),
        barge_in=barge_in_settings(),
    )


def connection_limits() -> ConnectionLimits:
    return ConnectionLimits(
        frames_per_second=settings.MAX_FRAMES_PER_SECOND,
        audio_bytes_per_second=settings.MAX_AUDIO_BYTES_PER_SECOND,
        max_image_frame_bytes=settings.MAX_IMAGE_BYTES * 4 // 3 + 64 * 1024,  # base64 and the JSON around it
    )


def picture_desk(session_id: str) -> PictureDesk:
    """Where a session's pictures come in (REST and WebSocket alike)."""
    rules = ImageRules(
        max_bytes=settings.MAX_IMAGE_BYTES, max_pixels=settings.MAX_IMAGE_PIXELS, max_side=settings.IMAGE_MAX_SIDE
    )
    keeper = PictureKeeper(Path(settings.IMAGE_ARCHIVE_DIR)) if settings.IMAGE_ARCHIVE_DIR else None
    return PictureDesk(session_id, allowance=limits.PictureAllowance(session_id), rules=rules, keeper=keeper)


async def open_connection(
    session_id: str,
    token: str | None,
    link: ClientLink,
    resources: contextlib.AsyncExitStack,
    *,
    wire: codecs.WireFormats = codecs.PCM_BOTH_WAYS,
) -> OpenedChat:
    """The consumer's :class:`voice.connection.ConnectionFactory`: checks the token, takes one of the session's
    connection slots, and builds the connection with the engine the deployment runs, speaking the audio codecs
    the client asked for (``wire``): the codecs live as long as the connection.

    Raises:
        ConnectionRefused: as :func:`selectors.session_for_connection`, or 4029 when the session's slots are taken.
    """
    session, history_count = await db_async(selectors.session_for_connection)(session_id, token)
    if not await limits.take_connection_slot(session_id):
        raise ConnectionRefused(protocol.CloseCode.LIMIT_REACHED)
    resources.push_async_callback(limits.release_connection_slot, session_id)
    conversation, store = open_conversation(session)
    downlink = codecs.downlink_encoder(
        wire.downlink, bitrate=settings.OPUS_BITRATE, complexity=settings.OPUS_COMPLEXITY
    )
    link.encode_with(downlink)
    resources.callback(downlink.close)
    uplink = codecs.uplink_decoder(wire.uplink)
    engine = build_engine(conversation, store, send_json=link.send_json, send_audio=link.send_audio)
    archive = UplinkArchive(Path(settings.AUDIO_ARCHIVE_DIR), session_id) if settings.AUDIO_ARCHIVE_DIR else None
    connection = ChatConnection(
        engine=engine,
        send_json=link.send_json,
        close=link.close,
        max_text_chars=settings.MAX_TEXT_MESSAGE_CHARS,
        archive=archive,
        limits=connection_limits(),
        speaking_budget=limits.DailySpeakingBudget(session_id),
        pictures=picture_desk(session_id),
        uplink=uplink,
        name=session_id,
    )
    resources.push_async_callback(connection.close)
    metrics.ACTIVE_CONNECTIONS.inc()
    resources.callback(metrics.ACTIVE_CONNECTIONS.dec)
    greeting = protocol.connection_message(
        session_id=session_id,
        mode=engine.mode.value,
        model=engine.model,
        history_message_count=history_count,
        audio_format=wire.describe(opus_bitrate=settings.OPUS_BITRATE),
    )
    return OpenedChat(connection=connection, greeting=greeting)


def reset() -> None:
    offline_voice.cache_clear()
    brains.reset()
