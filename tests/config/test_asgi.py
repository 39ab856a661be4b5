"""The ASGI application as a worker loads it."""

from __future__ import annotations

import gc
import importlib

import config.asgi


def test_what_a_worker_loads_is_kept_out_of_full_collections() -> None:
    importlib.reload(config.asgi)
    assert gc.get_freeze_count() > 10_000, "the loaded modules would be walked by every full collection"
    gc.unfreeze()
