"""Pagination of the REST lists: ``limit`` and ``offset`` are clamped, so no value can reach the database as an
integer it cannot hold."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 200
# Far beyond any list this service keeps, and far inside the 64-bit integers SQLite and PostgreSQL accept.
MAX_OFFSET = 2**31 - 1


class ClampedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` is clamped to 1-200 and ``?offset=`` to 0-2^31-1; a value that is not a number is ignored."""

    max_limit = MAX_PAGE_SIZE

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
