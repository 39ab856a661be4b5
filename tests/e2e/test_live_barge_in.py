"""Live mode in headless Chromium: the child talks over a reply that arrived ahead of playback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, Service, write_wav
from tests.e2e.test_demo_page import start_chat, stats
from tests.speech import spoken_question

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]


async def test_speaking_while_the_reply_plays_flushes_it(browser_for, live_service: Service, tmp_path: Path) -> None:
    # The emulator sends replies at 4x real time, so the whole reply is in the browser long before it is played.
    # The microphone is muted (push-to-talk released) after the question, and opened again once the reply
    # plays: what it then sends is the child talking, as the loop of the second question never pauses long.
    first = await spoken_question("How do I open the red door?", lead_seconds=0.8, tail_seconds=4.0)
    again = await spoken_question("Where is the key?", lead_seconds=0.0, tail_seconds=0.15, seed=3)
    page = await browser_for(write_wav(tmp_path / "live-barge-in.wav", first + again * 40))
    await start_chat(page, live_service)
    assert await page.evaluate("window.__demo.connection.mode") == "live"
    await page.wait_for_function("() => document.querySelector('#conversation li.child')", timeout=30_000)
    await page.evaluate("window.__audioChat.setTalking(false)")
    await page.wait_for_function("() => window.__audioChat.stats.player.played > 24000 * 0.3", timeout=60_000)
    queued = (await stats(page))["player"]["queued"]
    await page.evaluate("window.__audioChat.setTalking(true)")
    await page.wait_for_function("() => window.__audioChat.stats.interruptedAt !== null", timeout=10_000)
    cut = (await stats(page))["interruptedAt"]
    await asyncio.sleep(0.3)
    after_flush = (await stats(page))["player"]
    await asyncio.sleep(0.4)
    later = (await stats(page))["player"]
    await page.screenshot(path=ARTIFACTS / "live-interrupted.png")
    reports = (await stats(page))["playbackReports"]
    assert queued > 24_000, "the reply arrived ahead: over a second of it was queued when the child spoke"
    assert cut["played"] > 0 and cut["queued"] > 0, "the reply was playing, with more of it queued, when cut"
    assert cut["heard"] is not None and cut["heard"] > 0, "the server said where the reply stopped"
    assert after_flush["flushes"] >= 1 and after_flush["flushedSamples"] > 0, "the queued rest was dropped"
    assert later["played"] == after_flush["played"], "nothing plays between the flush and the next reply"
    assert reports > 0, "the page told the server how much it had played"
    assert await page.locator("#conversation li.helper.cut").count() >= 1
