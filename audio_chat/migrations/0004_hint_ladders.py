"""Hints become ladders: each stored {topic, examples, text} becomes {topic, examples, steps: [text]}."""

from typing import Any

from django.db import migrations


def to_ladders(apps: Any, schema_editor: Any) -> None:
    Level = apps.get_model("audio_chat", "Level")
    for level in Level.objects.all():
        hints = []
        for hint in level.hints:
            ladder = {key: value for key, value in hint.items() if key != "text"}
            ladder.setdefault("steps", [hint["text"]] if hint.get("text") else [])
            hints.append(ladder)
        if hints != level.hints:
            level.hints = hints
            level.save(update_fields=["hints"])


def to_single_texts(apps: Any, schema_editor: Any) -> None:
    """Back to one text per hint: the gentlest step (the more specific ones cannot be kept)."""
    Level = apps.get_model("audio_chat", "Level")
    for level in Level.objects.all():
        hints = []
        for hint in level.hints:
            single = {key: value for key, value in hint.items() if key != "steps"}
            if hint.get("steps"):
                single["text"] = hint["steps"][0]
            hints.append(single)
        if hints != level.hints:
            level.hints = hints
            level.save(update_fields=["hints"])


class Migration(migrations.Migration):
    dependencies = [("audio_chat", "0003_safety")]

    operations = [migrations.RunPython(to_ladders, to_single_texts)]
