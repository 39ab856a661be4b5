"""Removes sessions (and everything stored for them) untouched for longer than SESSION_RETENTION_DAYS."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from audio_chat.models import ChatSession
from audio_chat.services import flush_erased_data, session_delete


class Command(BaseCommand):
    help = "Delete chat sessions older than the retention period (run it daily, e.g. from cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="override SESSION_RETENTION_DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.SESSION_RETENTION_DAYS
        cutoff = timezone.now() - dt.timedelta(days=days)
        old = ChatSession.objects.filter(updated_at__lt=cutoff)
        count = 0
        for session in old.iterator():
            session_delete(session, flush=False)
            count += 1
        if count:
            transaction.on_commit(flush_erased_data)  # at once, unless a caller's transaction is still open
        self.stdout.write(f"Purged {count} sessions untouched for more than {days} days.")
