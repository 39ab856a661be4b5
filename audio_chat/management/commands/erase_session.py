"""Erases everything kept for one chat session: the session, its messages, and any archived raw audio."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audio_chat.models import ChatSession
from audio_chat.services import session_delete


class Command(BaseCommand):
    help = "Erase a chat session and everything stored for it (a parent's deletion request)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("session_id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            session = ChatSession.objects.filter(pk=options["session_id"]).first()
        except ValidationError:
            raise CommandError(f"{options['session_id']!r} is not a session id.") from None
        if session is None:
            raise CommandError(f"No session {options['session_id']}.")
        session_delete(session)
        self.stdout.write(f"Erased session {options['session_id']} and everything stored for it.")
