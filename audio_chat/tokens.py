"""Client tokens: signed, expiring, and valid for one chat session only."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.utils import timezone

_SALT = "audio-chat.client-token"


class InvalidClientToken(Exception):
    """The token is missing, malformed, tampered with, expired, or for another session."""


def issue_client_token(session_id: str) -> tuple[str, dt.datetime]:
    """A token for ``session_id`` and the moment it expires."""
    token = signing.TimestampSigner(salt=_SALT).sign(str(session_id))
    return token, timezone.now() + dt.timedelta(seconds=settings.CLIENT_TOKEN_TTL_SECONDS)


def check_client_token(token: str | None, session_id: str) -> None:
    """Raises:
    InvalidClientToken: the token does not grant access to ``session_id`` now.
    """
    if not token:
        raise InvalidClientToken("missing token")
    try:
        signed_id = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.CLIENT_TOKEN_TTL_SECONDS)
    except signing.SignatureExpired:
        raise InvalidClientToken("expired token") from None
    except signing.BadSignature:
        raise InvalidClientToken("invalid token") from None
    if signed_id != str(session_id):
        raise InvalidClientToken("token is for another session")
