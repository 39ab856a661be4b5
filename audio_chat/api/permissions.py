"""Who may call the REST API: game backends with an API key, and a game client for its own session."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_api_key.permissions import HasAPIKey

from audio_chat.models import ChatSession
from audio_chat.tokens import InvalidClientToken, check_client_token

BEARER = "bearer "


def bearer_token(request: Request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[len(BEARER) :].strip() if header.lower().startswith(BEARER) else None


class GameBackendAccess(BasePermission):
    """A valid, unrevoked API key: ``Authorization: Api-Key <key>``."""

    message = "A valid API key is required: send 'Authorization: Api-Key <key>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(HasAPIKey().has_permission(request, view))


class GameBackendOrSessionClient(BasePermission):
    """An API key, or the client token of the one session the request is about (``Authorization: Bearer``).

    Views name that session with ``session_for_client_token(request)``; views that return None accept keys only.
    """

    message = "An API key, or this session's client token ('Authorization: Bearer <token>'), is required."

    def has_permission(self, request: Request, view: Any) -> bool:
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
