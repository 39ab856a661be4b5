"""Who may call the REST API: game backends with an API key, and a game client for its own session.

An address whose calls keep being refused is throttled before its credentials are even looked at: DRF checks
permissions before throttles, so without this a caller guessing keys or tokens would never see a 429.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.permissions import HasAPIKey

from audio_chat.models import ChatSession
from audio_chat.tokens import InvalidClientToken, check_client_token

BEARER = "bearer "


def bearer_token(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[len(BEARER) :].strip() if header.lower().startswith(BEARER) else None


class RefusedCallerThrottle(SimpleRateThrottle):
    """Refused calls per client address (REST_REFUSED_RATE_LIMIT): looked at first, charged only on refusal."""

    scope = "refused"

    def get_rate(self) -> str:
        return str(settings.REST_REFUSED_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def check(self, request: Request, view: Any) -> None:
        """Raise Throttled while the address has used up its refusals; a call that is let through costs nothing."""
        allowed, seconds = self.parse_rate(self.get_rate())
        self.limit, self.window = allowed or 0, seconds or 1
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.window]
        if len(self.history) >= self.limit:
            raise Throttled(wait=self.window - (self.now - self.history[-1]) if self.history else self.window)

    def charge(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.window)


class ThrottledWhenRefused(BasePermission):
    """A permission whose refusals count against the caller's address (see :class:`RefusedCallerThrottle`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        throttle = RefusedCallerThrottle()
        throttle.check(request, view)
        allowed = self.allows(request, view)
        if not allowed:
            throttle.charge()
        return allowed

    def allows(self, request: Request, view: Any) -> bool:
        raise NotImplementedError


class GameBackendAccess(ThrottledWhenRefused):
    """A valid, unrevoked API key: ``Authorization: Api-Key <key>``."""

    message = "A valid API key is required: send 'Authorization: Api-Key <key>'."

    def allows(self, request: Request, view: Any) -> bool:
        return bool(HasAPIKey().has_permission(request, view))


class GameBackendOrSessionClient(ThrottledWhenRefused):
    """An API key, or the client token of the one session the request is about (``Authorization: Bearer``).

    Views name that session with ``session_for_client_token(request)``; views that return None accept keys only.
    """

    message = "An API key, or this session's client token ('Authorization: Bearer <token>'), is required."

    def allows(self, request: Request, view: Any) -> bool:
        if HasAPIKey().has_permission(request, view):
            return True
        token = bearer_token(request)
        finder = getattr(view, "session_for_client_token", None)
        if token is None or finder is None:
            return False
        session_id = finder(request)
        if session_id is None:
            return False
        version = ChatSession.objects.filter(pk=session_id).values_list("client_token_version", flat=True).first()
        if version is None:
            return False
        try:
            check_client_token(token, str(session_id), version)
        except InvalidClientToken:
            return False
        return True
