"""Read-only queries that decide what a caller may open: a session for a WebSocket, with its token checked."""

from __future__ import annotations

from audio_chat.models import ChatMessage, ChatSession
from audio_chat.tokens import InvalidClientToken, read_client_token
from voice.connection import ConnectionRefused
from voice.protocol import CloseCode


def session_for_connection(session_id: str, token: str | None) -> tuple[ChatSession, int]:
    """The session a client token opens, and how many messages it holds.

    Raises:
        ConnectionRefused: the token is not valid for the session now (4401), the session does not exist (4004),
            or it has ended (4010).
    """
    try:
        version = read_client_token(token, session_id)
    except InvalidClientToken:
        raise ConnectionRefused(CloseCode.UNAUTHORIZED) from None
    session = ChatSession.objects.select_related("level").filter(pk=session_id).first()
    if session is None:
        raise ConnectionRefused(CloseCode.SESSION_NOT_FOUND)
    if version != session.client_token_version:
        raise ConnectionRefused(CloseCode.UNAUTHORIZED)
    if not session.is_active:
        raise ConnectionRefused(CloseCode.SESSION_ENDED)
    return session, ChatMessage.objects.filter(session=session).count()
