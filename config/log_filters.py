"""A logging filter that keeps client tokens (``?token=…`` in WebSocket and HTTP URLs) out of every log line."""

from __future__ import annotations

import logging
import re
from typing import Any

# token=… in a query string, up to the next parameter, quote or space; the parameter name stays, for debugging.
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:client_)?token=)[^&;\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(rf"\1{REDACTED}", text)


def _scrub_argument(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


class ScrubSecretsFilter(logging.Filter):
    """Rewrites the message and its string arguments in place; never drops a record.

    The arguments are scrubbed one by one (not the formatted message) because uvicorn's access formatter
    reads them as a tuple (client, method, path, version, status).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_argument(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _scrub_argument(value) for key, value in record.args.items()}
        return True


SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.access", "gunicorn.error")


def scrub_server_logs() -> None:
    """Add the filter to the handlers the ASGI server set up before it imported the application.

    uvicorn logs WebSocket handshakes on ``uvicorn.error`` and HTTP requests on ``uvicorn.access``, with the
    query string. Filtering its handlers, rather than configuring them again, keeps whatever the operator chose
    (formats, levels, ``--no-access-log``, ``--log-config``).
    """
    for name in SERVER_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(existing, ScrubSecretsFilter) for existing in handler.filters):
                handler.addFilter(ScrubSecretsFilter())
