"""Creates a game-backend API key and prints it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = "Create an API key for a game backend; the key is shown only now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, e.g. the studio's backend.")

    def handle(self, *args: Any, **options: Any) -> None:
        _, key = APIKey.objects.create_key(name=options["name"])
        self.stdout.write(key)
