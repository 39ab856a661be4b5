"""Every demo level has a sample screenshot, small, and drawn by scripts/draw_sample_screens.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scripts.draw_sample_screens import SIZE, TARGET, draw

ROOT = Path(__file__).resolve().parents[2]
SLUGS = [level["slug"] for level in json.loads((ROOT / "audio_chat/fixtures/demo_levels.json").read_text())]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_committed_sample_is_the_scripts_drawing(slug: str) -> None:
    path = TARGET / f"{slug}.jpg"
    assert path.stat().st_size < 30_000
    with Image.open(path) as committed:
        assert committed.format == "JPEG" and committed.size == SIZE
        difference = np.abs(np.asarray(committed, dtype=np.int16) - np.asarray(draw(slug), dtype=np.int16))
    assert difference.mean() < 4, "run python scripts/draw_sample_screens.py after changing a drawing"
