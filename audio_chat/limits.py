"""Limits kept in the cache, so that with Redis configured they hold across every worker.

Cache calls run in a thread pool of their own (they block on Redis, but need no database connection), not in
the single database thread, where they would queue behind the conversation's writes.
"""

from __future__ import annotations

import datetime as dt

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

# A worker killed without releasing its slots must not lock a child out for long: the count expires this long
# after the session's last connect (renewed on every connect; while it is alive nobody is refused wrongly).
SLOT_TTL_SECONDS = 15 * 60


def _slots_key(session_id: str) -> str:
    return f"audio-chat:connections:{session_id}"


def _take_slot(session_id: str) -> bool:
    key = _slots_key(session_id)
    cache.add(key, 0, SLOT_TTL_SECONDS)
    cache.touch(key, SLOT_TTL_SECONDS)
    if cache.incr(key) > settings.MAX_CONNECTIONS_PER_SESSION:
        cache.decr(key)
        return False
    return True


def _release_slot(session_id: str) -> None:
    try:
        if cache.decr(_slots_key(session_id)) < 0:
            cache.set(_slots_key(session_id), 0, SLOT_TTL_SECONDS)
    except ValueError:  # the key expired meanwhile
        pass


take_connection_slot = sync_to_async(_take_slot, thread_sensitive=False)
release_connection_slot = sync_to_async(_release_slot, thread_sensitive=False)


class DailySpeakingBudget:
    """``DAILY_SPEAKING_MINUTES`` of the child's audio per session per (UTC) day."""

    def __init__(self, session_id: str) -> None:
        self._session_id = session_id

    def _spend(self, seconds: float) -> bool:
        today = timezone.now().date().isoformat()
        key = f"audio-chat:speaking-ms:{self._session_id}:{today}"
        cache.add(key, 0, int(dt.timedelta(days=1, hours=1).total_seconds()))
        spent_ms = cache.incr(key, round(seconds * 1000))
        return bool(spent_ms <= settings.DAILY_SPEAKING_MINUTES * 60_000)

    async def spend(self, seconds: float) -> bool:
        return await sync_to_async(self._spend, thread_sensitive=False)(seconds)


class PictureAllowance:
    """``IMAGES_PER_MINUTE`` pictures per session, REST and WebSocket together, on every worker."""

    def __init__(self, session_id: str) -> None:
        self._session_id = session_id

    def take_now(self) -> bool:
        minute = int(timezone.now().timestamp() // 60)
        key = f"audio-chat:pictures:{self._session_id}:{minute}"
        cache.add(key, 0, 120)
        return bool(cache.incr(key) <= settings.IMAGES_PER_MINUTE)

    async def take(self) -> bool:
        return await sync_to_async(self.take_now, thread_sensitive=False)()
