"""A local server that speaks the Gemini Live API's BidiGenerateContent WebSocket protocol.

The real ``google-genai`` SDK connects to it unmodified (TLS with a self-signed certificate). It is the
upstream for audio-chat's tests, benchmarks and keyless local development.
"""

from gemini_emulator.faults import FaultPlan, FaultSchedule
from gemini_emulator.records import ConnectionRecord
from gemini_emulator.responders import Responder, ScriptedResponder, ToolRequest
from gemini_emulator.server import DEFAULT_MODELS, GeminiLiveEmulator

__all__ = [
    "DEFAULT_MODELS",
    "ConnectionRecord",
    "FaultPlan",
    "FaultSchedule",
    "GeminiLiveEmulator",
    "Responder",
    "ScriptedResponder",
    "ToolRequest",
]
