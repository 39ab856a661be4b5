"""Turns every failure a client can cause into a 4xx with a clear body, never a 500."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django would answer with its HTML "Bad Request" page (and log a traceback) for what is a client's mistake.
        exc = exceptions.ParseError(f"The body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE}-byte limit.")
    return drf_exception_handler(exc, context)
