"""A typed ``database_sync_to_async``: channels ships without type hints, and ORM calls must keep their types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")


def db_async(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ``func`` in Django's database thread, closing stale connections around it."""
    return cast(Callable[P, Awaitable[R]], database_sync_to_async(func))
