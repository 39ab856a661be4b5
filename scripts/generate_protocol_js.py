"""Writes audio_chat/static/audio_chat/protocol.js from voice/protocol.py, the protocol's one definition."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice.protocol import protocol_spec  # noqa: E402

TARGET = ROOT / "audio_chat" / "static" / "audio_chat" / "protocol.js"


def render() -> str:
    spec = protocol_spec()
    lines = [
        "// The audio-chat WebSocket protocol. Generated from voice/protocol.py by",
        "// scripts/generate_protocol_js.py: do not edit by hand.",
        "",
    ]
    for key, value in spec.items():
        name = key[0].upper() + key[1:]
        lines.append(f"export const {name} = Object.freeze({json.dumps(value, indent=2)});")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")
