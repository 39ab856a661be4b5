"""The brain chosen from settings, and the offline brain taking over when Gemini fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from audio_chat import brains
from audio_chat.models import ChatSession
from tests.gemini_rest_stub import GeminiRestStub, serve_gemini_rest
from voice.context import Mode

pytestmark = pytest.mark.django_db


@contextmanager
def gemini_configured(stub: GeminiRestStub) -> Iterator[GeminiRestStub]:
    """Gemini configured with a key and pointed at a running stand-in."""
    with (
        serve_gemini_rest(stub) as running,
        override_settings(GEMINI_API_KEY="k", GEMINI_BASE_URL=running.base_url, TEXT_MODELS=["gemini-3.5-flash"]),
    ):
        brains.reset()
        yield running


def test_without_a_key_the_offline_brain_answers() -> None:
    assert brains.text_brain().mode is Mode.OFFLINE


@override_settings(GEMINI_API_KEY="k", BRAIN_MODE="offline")
def test_offline_can_be_chosen_even_with_a_key() -> None:
    assert brains.active_mode() is Mode.OFFLINE


@override_settings(BRAIN_MODE="cloudy")
def test_an_unknown_brain_mode_is_a_configuration_error() -> None:
    with pytest.raises(Exception, match="BRAIN_MODE"):
        brains.active_mode()


def test_with_a_key_gemini_answers_typed_messages(api: APIClient, session: ChatSession) -> None:
    with gemini_configured(GeminiRestStub(reply="Look around the kitchen!")):
        body = api.post(f"/api/sessions/{session.id}/messages/", {"content": "help"}, format="json").json()
    assert body["reply"]["text"] == "Look around the kitchen!"
    assert body["reply"]["mode"] == "text"
    assert body["reply"]["model"] == "gemini-3.5-flash"


def test_when_gemini_fails_the_offline_brain_still_answers(api: APIClient, session: ChatSession) -> None:
    with gemini_configured(GeminiRestStub(failing={"gemini-3.5-flash"})):
        body = api.post(f"/api/sessions/{session.id}/messages/", {"content": "where is the key"}, format="json").json()
    assert body["reply"]["mode"] == "offline"
    assert "blue" in body["reply"]["text"]
