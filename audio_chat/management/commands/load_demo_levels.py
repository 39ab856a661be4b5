"""Loads (or refreshes) the demo level catalog with its authored hints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from audio_chat.models import Level

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "fixtures" / "demo_levels.json"


class Command(BaseCommand):
    help = "Create or update the demo levels from audio_chat/fixtures/demo_levels.json."

    def handle(self, *args: Any, **options: Any) -> None:
        levels = json.loads(DEMO_CATALOG.read_text())
        for entry in levels:
            level = Level.objects.filter(slug=entry["slug"]).first() or Level(slug=entry["slug"])
            level.title = entry["title"]
            level.description = entry["description"]
            level.hints = entry["hints"]
            level.answers = entry.get("answers", [])
            level.full_clean()
            level.save()
        self.stdout.write(f"Loaded {len(levels)} demo levels.")
