"""Client tokens never reach the log: uvicorn's access and WebSocket lines, and Django's own, are scrubbed."""

from __future__ import annotations

import logging
import time
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from config.log_filters import ScrubSecretsFilter
from tests.conftest import RunningService


def test_a_token_in_a_url_is_in_no_line_of_the_running_services_log(running_service: RunningService) -> None:
    status, created = running_service.request("POST", "/api/sessions/", {"child_age": 7, "level_description": "x"})
    assert status == 201
    token = created["client_token"]
    with connect(f"{running_service.ws_url}{created['websocket_path']}?token={token}", open_timeout=30) as socket:
        assert '"connection"' in str(socket.recv(timeout=30))
    forged = "forged-token-value-0123456789"
    with pytest.raises(InvalidStatus):  # a path with no WebSocket route: refused, and still logged
        connect(f"{running_service.ws_url}/ws/nowhere/?token={forged}", open_timeout=30).close()
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{running_service.base_url}/api/sessions/?token={forged}&limit=1", timeout=30)  # noqa: S310
    time.sleep(0.5)  # the server writes its log lines after each answer

    log = running_service.log.read_text(errors="replace")
    assert f"{created['websocket_path']}?token=[redacted]" in log, "the WebSocket line is still logged"
    assert "/api/sessions/?token=[redacted]&limit=1" in log, "the HTTP access line is still logged"
    assert token not in log
    assert forged not in log


def test_the_filter_scrubs_arguments_in_place_for_uvicorns_access_formatter() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/ws/x/?a=1&token=abc.def:ghi&b=2", "1.1", 200), None,
    )  # fmt: skip
    assert ScrubSecretsFilter().filter(record)
    assert record.args == ("127.0.0.1:5", "GET", "/ws/x/?a=1&token=[redacted]&b=2", "1.1", 200)
