"""Client tokens: signed, expiring, valid for one chat session, and revoked when the session rotates them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.utils import timezone

_SALT = "audio-chat.client-token"


class InvalidClientToken(Exception):
    """The token is missing, malformed, tampered with, expired, revoked, or for another session."""


def issue_client_token(session_id: str, version: int = 0) -> tuple[str, dt.datetime]:
    """A token for ``session_id`` (at its current token version) and the moment it expires."""
    token = signing.TimestampSigner(salt=_SALT).sign(f"{session_id}.{version}")
    return token, timezone.now() + dt.timedelta(seconds=settings.CLIENT_TOKEN_TTL_SECONDS)


def read_client_token(token: str | None, session_id: str) -> int:
    """The token's version, when it is genuine, unexpired and for ``session_id``.

    Raises:
        InvalidClientToken: otherwise.
    """
    if not token:
        raise InvalidClientToken("missing token")
    try:
        signed = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.CLIENT_TOKEN_TTL_SECONDS)
    except signing.SignatureExpired:
        raise InvalidClientToken("expired token") from None
    except signing.BadSignature:
        raise InvalidClientToken("invalid token") from None
    signed_id, _, version = signed.rpartition(".")
    if signed_id != str(session_id) or not version.isdigit():
        raise InvalidClientToken("token is for another session")
    return int(version)


def check_client_token(token: str | None, session_id: str, current_version: int = 0) -> None:
    """Raises:
    InvalidClientToken: the token does not grant access to ``session_id`` now.
    """
    if read_client_token(token, session_id) != current_version:
        raise InvalidClientToken("revoked token")
