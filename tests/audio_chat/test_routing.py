"""A WebSocket upgrade on a path no route matches gets a 404, and no traceback in the log."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import RunningService

UNROUTED = [
    "/ws/audio-chat/not-a-uuid/",
    "/ws/audio-chat/0f8fad5bd9cb469fa16570867728950e/",  # a UUID without its dashes
    "/ws/audio-chat/",
    "/api/sessions/",
    "/",
    "/ws/audio-chat/0f8fad5b-d9cb-469f-a165-70867728950e/extra/",
]


@pytest.mark.parametrize("path", UNROUTED)
def test_an_upgrade_on_an_unrouted_path_is_answered_404_without_a_traceback(
    running_service: RunningService, path: str
) -> None:
    before = running_service.log.stat().st_size
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{running_service.ws_url}{path}", open_timeout=30).close()
    assert refused.value.response.status_code == 404
    time.sleep(0.3)
    with running_service.log.open("rb") as log:
        log.seek(before)
        written = log.read().decode(errors="replace")
    assert "Traceback" not in written
    assert "Exception in ASGI application" not in written
    assert "404" in written, "the refusal is logged as an ordinary access line"
