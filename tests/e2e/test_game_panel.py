"""The demo page's game panel in headless Chromium: a sample screenshot and a game state reach the helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, Service, write_wav
from tests.e2e.test_demo_page import start_chat
from voice.brains.offline import CANNOT_LOOK

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]


async def ask(page, question: str, helper_bubbles: int) -> str:
    await page.fill("#text", question)
    await page.click("#text-form button[type=submit]")
    await page.wait_for_function(
        f"() => document.querySelectorAll('#conversation li.helper:not(.pending)').length >= {helper_bubbles}",
        timeout=60_000,
    )
    return str(await page.inner_text(f"#conversation li.helper:not(.pending) >> nth={helper_bubbles - 1}"))


async def test_attaching_the_sample_picture_and_the_game_state(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(write_wav(tmp_path / "quiet.wav", bytes(32_000)))
    await start_chat(page, offline_service)
    await page.click("#game-panel summary")
    await page.click("#attach-sample")
    await page.wait_for_function("() => window.__gamePanel.picturesSent === 1")
    assert await page.is_visible("#conversation li.picture img")
    assert await ask(page, "what do I do here?", 1) == CANNOT_LOOK

    await page.fill("#game-step", "using the key")
    await page.fill("#game-items", "golden key")
    await page.click("#game-state-form button[type=submit]")
    await page.wait_for_function("() => window.__gamePanel.statesSent === 1")
    assert (await ask(page, "I'm stuck, can you help me", 2)).startswith("Great job finding it!")
    await page.screenshot(path=ARTIFACTS / "game-panel.png")
    assert await page.evaluate("window.__demo.errors") == []
