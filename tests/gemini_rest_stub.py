"""A local stand-in for Gemini's generateContent REST endpoint, so the real SDK can be tested offline."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PATH = re.compile(r"^/(?P<version>v[0-9a-z]+)/models/(?P<model>[^:/]+):generateContent$")


@dataclass
class GeminiRestStub:
    """Answers every known model with ``reply``; ``retired`` models get Google's 404; ``failing`` ones a 503."""

    reply: str = "Try looking under the blue rug!"
    retired: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    function_calls: list[dict[str, Any]] = field(default_factory=list)  # answered first, one per request

    def respond(
        self, version: str, model: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append({"version": version, "model": model, "body": body, "headers": headers})
        if model in self.retired:
            message = f"models/{model} is not found for API version {version}, or is not supported for generateContent."
            return 404, {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}}
        if model in self.failing:
            return 503, {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
        if self.function_calls:
            parts: list[dict[str, Any]] = [{"functionCall": self.function_calls.pop(0)}]
        else:
            parts = [{"text": self.reply}]
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
        return 200, {"candidates": [candidate], "modelVersion": model}


@contextmanager
def serve_gemini_rest(stub: GeminiRestStub) -> Iterator[GeminiRestStub]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = _PATH.match(self.path.split("?")[0])
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if match is None:
                status, payload = 404, {"error": {"code": 404, "message": "no such path", "status": "NOT_FOUND"}}
            else:
                status, payload = stub.respond(match["version"], match["model"], body, dict(self.headers))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
