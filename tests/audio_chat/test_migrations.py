"""Data migrations: levels stored before a change still work after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_LADDERS = [("audio_chat", "0003_safety")]
LADDERS = [("audio_chat", "0004_hint_ladders")]


@pytest.fixture(autouse=True)
def back_to_the_latest() -> Iterator[None]:
    """Later tests share this database: leave it fully migrated, whatever a test migrated it back to."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_single_text_hints_become_one_step_ladders_and_back() -> None:
    old_state = migrate(BEFORE_LADDERS).loader.project_state(BEFORE_LADDERS[0])
    OldLevel = old_state.apps.get_model("audio_chat", "Level")
    hint = {"topic": "the door", "examples": ["how do I open it"], "text": "Find the key."}
    OldLevel.objects.create(slug="castle", title="Castle", description="d", hints=[hint])

    new_state = migrate(LADDERS).loader.project_state(LADDERS[0])
    stored = new_state.apps.get_model("audio_chat", "Level").objects.get(slug="castle").hints
    assert stored == [{"topic": "the door", "examples": ["how do I open it"], "steps": ["Find the key."]}]

    migrate(BEFORE_LADDERS)
    assert OldLevel.objects.get(slug="castle").hints == [hint]
    migrate(LADDERS)
