"""Who may call the REST API: game backends holding an API key (open for local development only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import HasAPIKey


class GameBackendAccess(BasePermission):
    """An API key is required, except in DEBUG before any key exists, so a fresh checkout just works."""

    message = "A valid API key is required: send 'Authorization: Api-Key <key>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        if settings.DEBUG and not APIKey.objects.filter(revoked=False).exists():
            return True
        return HasAPIKey().has_permission(request, view)
