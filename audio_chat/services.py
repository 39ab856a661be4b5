"""Session, message and level operations; views, the consumer and commands go through these."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audio_chat.db import db_async
from audio_chat.models import ChatMessage, ChatSession, Level, hint_steps
from voice.archive import UplinkArchive
from voice.context import ConversationContext, GameState, Hint, LevelContext, Mode, Picture, Speaker, Turn
from voice.game_state import GameStateRejected, as_json, validate_game_state
from voice.images import PictureKeeper
from voice.protocol import CloseCode

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)

HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 200


def level_context(session: ChatSession) -> LevelContext:
    """The level as the helper sees it: the catalog entry with its hints, or the free-text description."""
    level = session.level
    if level is None:
        return LevelContext(title="", description=session.level_description)
    hints = tuple(_hint(h) for h in level.hints)
    description = level.description
    if session.level_description and session.level_description != level.description:
        description = f"{level.description}\n{session.level_description}"
    return LevelContext(title=level.title, description=description, hints=hints, answers=tuple(level.answers))


def _hint(stored: dict[str, Any]) -> Hint:
    first, *more = hint_steps(stored)
    return Hint(topic=stored["topic"], text=first, examples=tuple(stored.get("examples", [])), more_steps=tuple(more))


def stored_game_state(session: ChatSession) -> GameState | None:
    """The session's newest game state, as the realtime core reads it (None when none was reported)."""
    if not session.game_state:
        return None
    try:
        return validate_game_state(session.game_state)
    except GameStateRejected:  # written by an older rule set: the next report replaces it
        logger.warning("Session %s has a stored game state that is no longer valid; ignored", session.pk)
        return None


def conversation_context(session: ChatSession) -> ConversationContext:
    return ConversationContext(
        session_id=str(session.id),
        child_age=session.child_age,
        level=level_context(session),
        initial_message=session.initial_message,
        voice_name=session.voice_name,
        game_state=stored_game_state(session),
    )


@transaction.atomic
def session_create(
    *, child_age: int, level: Level | None = None, level_description: str = "", initial_message: str = ""
) -> ChatSession:
    session = ChatSession(
        child_age=child_age,
        level=level,
        level_description=level_description or (level.description if level else ""),
        initial_message=initial_message,
    )
    session.full_clean()
    session.save()
    return session


def session_group(session_id: str) -> str:
    """The channel-layer group of a session's open WebSockets, on every worker."""
    return f"audio-chat.session.{session_id}"


def session_end(session: ChatSession) -> ChatSession:
    """End the session and close its open WebSockets (4010), whichever worker holds them."""
    if session.is_active:
        session.is_active = False
        session.ended_at = timezone.now()
        session.save(update_fields=["is_active", "ended_at", "updated_at"])
    close_session_sockets(str(session.pk), CloseCode.SESSION_ENDED)
    return session


def close_session_sockets(session_id: str, code: CloseCode) -> None:
    """Close the session's open WebSockets with ``code``, whichever worker holds them."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(session_group(session_id), {"type": "session.closed", "code": int(code)})


def session_report_game_state(session: ChatSession, state: GameState) -> ChatSession:
    """Keep the game's newest state and hand it to the session's open connections, whichever worker holds them."""
    save_game_state(str(session.pk), as_json(state))
    session.refresh_from_db(fields=["game_state", "game_state_updated_at"])
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            session_group(str(session.pk)), {"type": "session.game_state", "state": as_json(state)}
        )
    return session


def save_game_state(session_id: str, state: Mapping[str, Any]) -> None:
    ChatSession.objects.filter(pk=session_id).update(game_state=dict(state), game_state_updated_at=timezone.now())


def session_share_picture(session: ChatSession, picture: Picture) -> None:
    """Hand a checked picture to the session's open connections, whichever worker holds them (it is not stored
    here: keeping pictures is the picture desk's opt-in)."""
    layer = get_channel_layer()
    if layer is not None:
        event = {
            "type": "session.picture",
            "data": base64.b64encode(picture.data).decode("ascii"),
            "mime_type": picture.mime_type,
            "width": picture.width,
            "height": picture.height,
        }
        async_to_sync(layer.group_send)(session_group(str(session.pk)), event)


def picture_of_event(event: Mapping[str, Any]) -> Picture:
    """The picture a ``session.picture`` channel-layer event carries."""
    return Picture(
        data=base64.b64decode(event["data"]),
        mime_type=str(event["mime_type"]),
        width=int(event["width"]),
        height=int(event["height"]),
    )


def session_rotate_token(session: ChatSession) -> ChatSession:
    """Revoke every client token of the session; the caller issues the new one."""
    ChatSession.objects.filter(pk=session.pk).update(client_token_version=F("client_token_version") + 1)
    session.refresh_from_db(fields=["client_token_version"])
    # A socket opened with a revoked token must not outlive it.
    transaction.on_commit(lambda: close_session_sockets(str(session.pk), CloseCode.UNAUTHORIZED))
    return session


def session_delete(session: ChatSession, *, flush: bool = True) -> None:
    """Erase the session and everything stored for it, archived raw audio included.

    With ``flush`` (the default) the erased rows are also pushed out of the database's files once the deletion
    commits (:func:`flush_erased_data`); a caller erasing many sessions passes False and flushes once at the end.
    """
    # Its sockets close first, so that no turn is stored for a session that no longer exists.
    close_session_sockets(str(session.pk), CloseCode.SESSION_NOT_FOUND)
    with transaction.atomic():
        ChatMessage.objects.filter(session=session).delete()
        if settings.AUDIO_ARCHIVE_DIR:
            for recording in UplinkArchive.recordings(Path(settings.AUDIO_ARCHIVE_DIR), str(session.pk)):
                recording.unlink(missing_ok=True)
        if settings.IMAGE_ARCHIVE_DIR:
            for picture in PictureKeeper.kept(Path(settings.IMAGE_ARCHIVE_DIR), str(session.pk)):
                picture.unlink(missing_ok=True)
        session.delete()
        if flush:
            transaction.on_commit(flush_erased_data)


def flush_erased_data(attempts: int = 5) -> bool:
    """Make deleted rows unrecoverable from the database files; True when nothing of them is left.

    SQLite (with ``secure_delete``, set in settings) zeroes deleted rows in the database file, but in WAL mode the
    pages that held them stay in the ``-wal`` file until a checkpoint: ``wal_checkpoint(TRUNCATE)`` copies the
    zeroed pages into the database and empties the WAL. A reader still inside a transaction can hold the
    checkpoint back; it is retried, then logged. PostgreSQL needs a VACUUM instead (docs/deployment.md).
    """
    if connection.vendor != "sqlite":
        return True
    for attempt in range(attempts):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _, _ = cursor.fetchone()
        if not busy:
            return True
        time.sleep(0.05 * (attempt + 1))
    logger.warning("Erased rows may remain in the SQLite WAL: a reader held the checkpoint back %d times", attempts)
    return False


def message_create(
    *,
    session: ChatSession,
    sender: str,
    text: str,
    message_type: str = ChatMessage.MessageType.TEXT,
    mode: str = "",
    model: str = "",
    interrupted: bool = False,
    flags: list[str] | None = None,
    tool: dict[str, Any] | None = None,
) -> ChatMessage:
    message = ChatMessage(
        session=session,
        sender=sender,
        message_type=message_type,
        text=text,
        mode=mode,
        model=model,
        interrupted=interrupted,
        flags=flags or [],
        tool=tool,
    )
    message.full_clean(exclude=["session"])
    message.save()
    return message


def recent_messages(session: ChatSession, limit: int) -> list[ChatMessage]:
    """The newest ``limit`` messages of a session, oldest first."""
    newest = ChatMessage.objects.filter(session=session).order_by("-created_at", "-id")[:limit]
    return list(reversed(newest))


def clamp_history_limit(raw: Any) -> int:
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        return HISTORY_LIMIT_DEFAULT
    return max(1, min(HISTORY_LIMIT_MAX, limit))


class DjangoConversationStore:
    """The realtime core's :class:`voice.conversation.ConversationStore`, backed by the ORM off the event loop."""

    def __init__(self, session: ChatSession) -> None:
        self._session = session

    async def recent_turns(self, limit: int) -> list[Turn]:
        return await db_async(self._recent_turns)(limit)

    async def add_turn(
        self,
        speaker: Speaker,
        text: str,
        *,
        mode: Mode | None,
        model: str,
        spoken: bool = False,
        interrupted: bool = False,
        flags: Sequence[str] = (),
    ) -> int:
        return await db_async(self._add_turn)(
            speaker, text, mode=mode, model=model, spoken=spoken, interrupted=interrupted, flags=list(flags)
        )

    async def add_tool_turn(self, name: str, arguments: Mapping[str, Any], result: Mapping[str, Any]) -> int:
        return await db_async(self._add_tool_turn)(name, dict(arguments), dict(result))

    async def save_game_state(self, state: Mapping[str, Any]) -> None:
        await db_async(save_game_state)(str(self._session.pk), state)

    async def load_resumption(self) -> tuple[str, str]:
        return await db_async(self._load_resumption)()

    async def save_resumption(self, model: str, handle: str) -> None:
        await db_async(self._save_resumption)(model, handle)

    async def add_usage(self, usage: dict[str, int]) -> None:
        await db_async(self._add_usage)(usage)

    def _load_resumption(self) -> tuple[str, str]:
        session = ChatSession.objects.only("live_model", "live_resumption_handle", "live_resumption_updated_at").get(
            pk=self._session.pk
        )
        updated = session.live_resumption_updated_at
        max_age = dt.timedelta(seconds=settings.LIVE_HANDLE_MAX_AGE_SECONDS)
        if not session.live_resumption_handle or updated is None or timezone.now() - updated > max_age:
            return "", ""
        return session.live_model, session.live_resumption_handle

    def _save_resumption(self, model: str, handle: str) -> None:
        ChatSession.objects.filter(pk=self._session.pk).update(
            live_model=model, live_resumption_handle=handle, live_resumption_updated_at=timezone.now()
        )

    @transaction.atomic
    def _add_usage(self, usage: dict[str, int]) -> None:
        session = ChatSession.objects.select_for_update().only("token_usage").get(pk=self._session.pk)
        totals = dict(session.token_usage or {})
        for key, count in usage.items():
            totals[key] = int(totals.get(key, 0)) + int(count)
        session.token_usage = totals
        session.save(update_fields=["token_usage"])

    def _recent_turns(self, limit: int) -> list[Turn]:
        # Tool turns are not speech: a brain gets the conversation, and calls the function again when it needs to.
        spoken = ChatMessage.objects.filter(session=self._session).exclude(sender=Speaker.TOOL.value)
        newest = spoken.order_by("-created_at", "-id")[:limit]
        return [Turn(Speaker(m.sender), m.text) for m in reversed(newest)]

    def _add_tool_turn(self, name: str, arguments: dict[str, Any], result: dict[str, Any]) -> int:
        said = result.get("hint") or result.get("note") or result.get("error") or ""
        try:
            with transaction.atomic():
                message = message_create(
                    session=self._session,
                    sender=Speaker.TOOL.value,
                    text=str(said),
                    message_type=ChatMessage.MessageType.TOOL_CALL,
                    tool={"name": name, "arguments": arguments, "result": result},
                )
        except IntegrityError:
            if ChatSession.objects.filter(pk=self._session.pk).exists():
                raise
            logger.info("Session %s was erased; a closing connection's tool turn is not stored", self._session.pk)
            return 0
        return int(message.pk)

    def _add_turn(
        self,
        speaker: Speaker,
        text: str,
        *,
        mode: Mode | None,
        model: str,
        spoken: bool,
        interrupted: bool,
        flags: list[str],
    ) -> int:
        try:
            with transaction.atomic():
                message = message_create(
                    session=self._session,
                    sender=speaker.value,
                    text=text,
                    message_type=ChatMessage.MessageType.AUDIO if spoken else ChatMessage.MessageType.TEXT,
                    mode=mode.value if mode else "",
                    model=model,
                    interrupted=interrupted,
                    flags=flags,
                )
        except IntegrityError:
            if ChatSession.objects.filter(pk=self._session.pk).exists():
                raise
            # Erased while a connection was still closing: nothing of it may be stored again.
            logger.info("Session %s was erased; a closing connection's turn is not stored", self._session.pk)
            return 0
        return int(message.pk)
