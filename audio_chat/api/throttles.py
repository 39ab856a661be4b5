"""REST rate limits per caller (API key or client token, else address); shared across workers via the cache."""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class CallerRateThrottle(SimpleRateThrottle):
    scope = "caller"

    def get_cache_key(self, request: Request, view: Any) -> str:
        credential = request.META.get("HTTP_AUTHORIZATION", "")
        caller = hashlib.sha256(credential.encode()).hexdigest()[:24] if credential else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": caller}
