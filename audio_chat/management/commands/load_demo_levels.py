"""Adds the demo levels that are missing; levels already in the database keep their edits unless --reset."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from audio_chat.models import Level

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "fixtures" / "demo_levels.json"
CATALOG_FIELDS = ("title", "description", "hints", "answers")


def catalog_values(entry: dict[str, Any]) -> dict[str, Any]:
    return {"title": entry["title"], "description": entry["description"], "hints": entry["hints"],
            "answers": entry.get("answers", [])}  # fmt: skip


class Command(BaseCommand):
    help = (
        "Create the demo levels of audio_chat/fixtures/demo_levels.json that are missing. A demo level that was "
        "edited (in the admin or over the API) is left as it is and named; --reset puts the catalog's version back."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--reset", action="store_true", help="overwrite edited demo levels with the catalog's")

    def handle(self, *args: Any, **options: Any) -> None:
        created, kept, reset = [], [], []
        for entry in json.loads(DEMO_CATALOG.read_text()):
            values = catalog_values(entry)
            level = Level.objects.filter(slug=entry["slug"]).first()
            if level is None:
                level = Level(slug=entry["slug"])
                created.append(entry["slug"])
            elif all(getattr(level, field) == values[field] for field in CATALOG_FIELDS):
                continue
            elif options["reset"]:
                reset.append(entry["slug"])
            else:
                kept.append(entry["slug"])
                continue
            for field, value in values.items():
                setattr(level, field, value)
            level.full_clean()
            level.save()
        summary = [f"Demo levels: {len(created)} created"]
        if reset:
            summary.append(f"{len(reset)} reset to the catalog ({', '.join(reset)})")
        if kept:
            summary.append(
                f"{len(kept)} edited and kept as they are ({', '.join(kept)}; "
                "manage.py load_demo_levels --reset restores them)"
            )
        self.stdout.write(", ".join(summary) + ".")
