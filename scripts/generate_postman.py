"""Writes docs/postman/audio-chat.postman_collection.json (Postman v2.1) from the service's OpenAPI schema.

The WebSocket messages are added as a documented folder: Postman's v2.1 format has no WebSocket requests,
so each message is an item whose body is the JSON to send on ``ws/audio-chat/{session_id}/?token=…``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = ROOT / "docs" / "postman" / "audio-chat.postman_collection.json"
SCHEMA_ID = "5b0f7f7e-6c1e-4c55-9a51-2d1f4a3c8e10"  # fixed, so regenerating gives the same file

WEBSOCKET_EXAMPLES: list[tuple[str, dict[str, Any], str]] = [
    ("text", {"type": "text", "content": "How do I open the red door?"}, "A typed message from the child."),
    (
        "audio_base64",
        {"type": "audio_base64", "content": "AAAAAA=="},
        "PCM16 16 kHz mono, base64 (binary frames preferred).",
    ),
    ("audio_end", {"type": "audio_end"}, "The microphone was paused or stopped."),
    ("ping", {"type": "ping"}, 'Answered with {"type":"pong"}.'),
]


def openapi_schema() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    # A JSON round trip turns lazy strings and other Django objects into plain data.
    return cast(dict[str, Any], json.loads(json.dumps(schema, default=str)))


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A small example value for a JSON schema, following $refs."""
    if depth > 6:
        return None
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {
            name: _example(prop, components, depth + 1)
            for name, prop in schema.get("properties", {}).items()
            if not prop.get("readOnly")
        }
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return "{{session_id}}"
    return schema.get("description", "string")[:40] if kind == "string" else None


def _request_item(path: str, method: str, operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    postman_path = path.replace("{id}", "{{session_id}}").replace("{slug}", "{{level_slug}}")
    query = [
        {
            "key": p["name"],
            "value": "{{session_id}}" if p["name"] == "session_id" else "",
            "disabled": not p.get("required"),
        }
        for p in operation.get("parameters", [])
        if p.get("in") == "query"
    ]
    request: dict[str, Any] = {
        "method": method.upper(),
        "header": [{"key": "Authorization", "value": "Api-Key {{api_key}}"}],
        "url": {
            "raw": "{{base_url}}" + postman_path,
            "host": ["{{base_url}}"],
            "path": [part for part in postman_path.split("/") if part],
            **({"query": query} if query else {}),
        },
        "description": operation.get("description") or operation.get("summary", ""),
    }
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(_example(body["schema"], components), indent=2)}
    return {"name": operation.get("summary") or f"{method.upper()} {path}", "request": request}


def build_collection(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    folders: dict[str, list[dict[str, Any]]] = {}
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in operations.items():
            if method.startswith("x-") or method == "parameters":
                continue
            folder = (operation.get("tags") or ["api"])[0]
            folders.setdefault(folder, []).append(_request_item(path, method, operation, components))
    websocket_items = [
        {
            "name": f"send {name}",
            "request": {
                "method": "GET",
                "header": [],
                "url": {"raw": "{{ws_url}}/ws/audio-chat/{{session_id}}/?token={{client_token}}"},
                "body": {"mode": "raw", "raw": json.dumps(frame, indent=2)},
                "description": description,
            },
        }
        for name, frame, description in WEBSOCKET_EXAMPLES
    ]
    return {
        "info": {
            "_postman_id": SCHEMA_ID,
            "name": schema["info"]["title"],
            "description": schema["info"].get("description", ""),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [
            {"key": "base_url", "value": "http://127.0.0.1:8000"},
            {"key": "ws_url", "value": "ws://127.0.0.1:8000"},
            {"key": "api_key", "value": ""},
            {"key": "session_id", "value": ""},
            {"key": "client_token", "value": ""},
            {"key": "level_slug", "value": "castle-red-door"},
        ],
        "item": [{"name": name, "item": items} for name, items in folders.items()]
        + [
            {
                "name": "WebSocket messages",
                "description": "Send these on ws/audio-chat/{session_id}/?token={client_token}; see "
                "docs/websocket-protocol.md for what the server sends back and the close codes.",
                "item": websocket_items,
            }
        ],
    }


def render() -> str:
    return json.dumps(build_collection(openapi_schema()), indent=2) + "\n"


if __name__ == "__main__":
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")
