"""Gemini through the google-genai SDK: the only module of audio-chat that imports ``google.genai``."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import errors, types

from voice.conversation import ConversationContext, Mode, Reply, Speaker, Turn
from voice.instructions import build_system_instruction
from voice.providers.base import BrainUnavailable

logger = logging.getLogger(__name__)

MAX_REPLY_TOKENS = 300
# Phrases Google uses when a model id is wrong, retired or shut down.
_GONE_MARKERS = ("not found", "not supported", "no longer available", "has been shut down", "retired", "deprecated")


@dataclass(frozen=True)
class GeminiSettings:
    """How to reach Gemini; built from Django settings by the app, or by tests and tools directly."""

    api_key: str
    api_version: str = "v1beta"
    base_url: str = ""
    timeout_seconds: float = 20.0
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    def http_options(self) -> types.HttpOptions:
        options: dict[str, Any] = {"api_version": self.api_version, "timeout": int(self.timeout_seconds * 1000)}
        if self.base_url:
            options["base_url"] = self.base_url
        if self.ssl_context is not None:
            options["async_client_args"] = {"ssl": self.ssl_context}
        # Our own fallback chain handles failures; the SDK's retries would only delay a child's answer.
        options["retry_options"] = types.HttpRetryOptions(attempts=1)
        return types.HttpOptions(**options)

    def client(self) -> genai.Client:
        return genai.Client(api_key=self.api_key, http_options=self.http_options())


def is_model_gone(error: errors.APIError) -> bool:
    """Whether Gemini says the model does not exist (any more) rather than failing for another reason."""
    if error.code == 404 or error.status == "NOT_FOUND":
        return True
    message = (error.message or "").lower()
    return error.code in (400, 1008) and any(marker in message for marker in _GONE_MARKERS)


def history_to_contents(history: Sequence[Turn], text: str) -> list[types.Content]:
    """Stored turns as Gemini contents; consecutive turns of one speaker are merged, as roles must alternate."""
    contents: list[types.Content] = []
    for speaker, turn_text in [*((t.speaker, t.text) for t in history), (Speaker.CHILD, text)]:
        if not turn_text.strip():
            continue
        role = "user" if speaker is Speaker.CHILD else "model"
        if contents and contents[-1].role == role and contents[-1].parts:
            contents[-1].parts.append(types.Part(text=turn_text))
        else:
            contents.append(types.Content(role=role, parts=[types.Part(text=turn_text)]))
    return contents


class GeminiTextBrain:
    """A Gemini text model; tries the configured models in order and skips those that are gone."""

    def __init__(self, settings: GeminiSettings, models: Sequence[str]) -> None:
        if not models:
            raise ValueError("GeminiTextBrain needs at least one model name.")
        self._settings = settings
        self._models = tuple(models)
        self._gone: set[str] = set()

    @property
    def mode(self) -> Mode:
        return Mode.TEXT

    @property
    def model(self) -> str:
        usable = [m for m in self._models if m not in self._gone]
        return usable[0] if usable else self._models[-1]

    async def reply(self, context: ConversationContext, history: Sequence[Turn], text: str) -> Reply:
        config = types.GenerateContentConfig(
            system_instruction=build_system_instruction(context), max_output_tokens=MAX_REPLY_TOKENS
        )
        contents = history_to_contents(history, text)
        # A client per call: the SDK's async HTTP client is bound to the event loop that first used it.
        async with self._settings.client().aio as client:
            for model in [m for m in self._models if m not in self._gone]:
                try:
                    response = await asyncio.wait_for(
                        client.models.generate_content(model=model, contents=contents, config=config),
                        timeout=self._settings.timeout_seconds,
                    )
                except errors.APIError as error:
                    if is_model_gone(error):
                        logger.warning("Gemini text model %s is not available (%s); trying the next", model, error.code)
                        self._gone.add(model)
                        continue
                    raise BrainUnavailable(f"Gemini {model} failed: {error.code} {error.status}") from error
                except TimeoutError:
                    raise BrainUnavailable(
                        f"Gemini {model} did not answer in {self._settings.timeout_seconds}s"
                    ) from None
                except Exception as error:  # network failures surface as several transport exception types
                    raise BrainUnavailable(f"Gemini {model} could not be reached: {type(error).__name__}") from error
                reply_text = (response.text or "").strip()
                if not reply_text:
                    raise BrainUnavailable(f"Gemini {model} returned an empty answer")
                return Reply(text=reply_text, mode=Mode.TEXT, model=model)
        raise BrainUnavailable("No configured Gemini text model is available: " + ", ".join(self._models))
