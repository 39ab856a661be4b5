"""The demo page, (in DEBUG only) the endpoint it starts sessions with so it needs no API key, and Redoc kept local."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularRedocView

from audio_chat import services
from audio_chat.api import serializers as s
from audio_chat.api.views import token_response
from audio_chat.models import Level


@method_decorator(ensure_csrf_cookie, name="dispatch")
class DemoPageView(TemplateView):
    template_name = "audio_chat/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["levels"] = list(Level.objects.values("slug", "title"))
        context["demo_enabled"] = settings.DEBUG
        return context


@require_POST
@csrf_protect
def demo_session_create(request: HttpRequest) -> JsonResponse:
    """What a game backend does with its API key, for the demo page only, and only in DEBUG."""
    if not settings.DEBUG:
        raise Http404("The demo can start sessions in DEBUG only.")
    try:
        payload = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return JsonResponse({"detail": "The body must be JSON."}, status=400)
    serializer = s.ChatSessionCreateSerializer(data=payload)
    if not serializer.is_valid():
        return JsonResponse(serializer.errors, status=400)
    session = services.session_create(**serializer.validated_data)
    return JsonResponse({**s.ChatSessionSerializer(session).data, **token_response(session)}, status=201)


# Redoc's bundle always shows Redocly's logo from their CDN; this policy keeps the page on this server (the
# logo is then hidden by Redoc itself). Inline script and styles are how drf-spectacular and Redoc start.
class LocalRedocView(SpectacularRedocView):
    """Redoc from drf-spectacular-sidecar, with no web fonts (see the template) and nothing else from outside."""

    template_name = "audio_chat/redoc.html"
