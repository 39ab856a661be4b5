"""Client tokens: bound to one session, signed and expiring."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from audio_chat.tokens import InvalidClientToken, check_client_token, issue_client_token

SESSION = str(uuid.uuid4())


def test_a_token_is_valid_for_its_session() -> None:
    token, expires_at = issue_client_token(SESSION)
    check_client_token(token, SESSION)
    assert expires_at > timezone.now()


@pytest.mark.parametrize("token", [None, "", "garbage", "a:b:c"])
def test_missing_or_malformed_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(InvalidClientToken):
        check_client_token(token, SESSION)


def test_a_tampered_token_is_refused() -> None:
    token, _ = issue_client_token(SESSION)
    with pytest.raises(InvalidClientToken, match="invalid"):
        check_client_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), SESSION)


def test_a_token_for_another_session_is_refused() -> None:
    token, _ = issue_client_token(str(uuid.uuid4()))
    with pytest.raises(InvalidClientToken, match="another session"):
        check_client_token(token, SESSION)


def test_an_expired_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token, _ = issue_client_token(SESSION)
    later = timezone.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    with override_settings(CLIENT_TOKEN_TTL_SECONDS=60), pytest.raises(InvalidClientToken, match="expired"):
        check_client_token(token, SESSION)
