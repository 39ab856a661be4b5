"""The demo page in headless Chromium, a WAV file as its microphone, against the real service processes."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.conftest import ARTIFACTS, Service, correlation, window_correlations, write_wav
from tests.speech import spoken_question

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]


# Predicates are functions, not expressions: Playwright evaluates an expression with eval() in the page, which
# the page's Content-Security-Policy (script-src 'self') forbids.


async def start_chat(
    page: Any, service: Service, level: str = "castle-red-door", query: str = "?processing=off&codec=pcm"
) -> None:
    """Open the demo page and start a chat; PCM unless ``query`` says otherwise (the uplink is compared byte for
    byte with what the page sent)."""
    await page.goto(service.base_url + "/" + query)
    await page.wait_for_function("() => document.querySelectorAll('#level option').length >= 3")
    await page.select_option("#level", level)
    await page.click("#start")  # a real gesture, as a child's browser needs to start audio
    await page.wait_for_function("() => window.__demo.phase === 'ready'", timeout=30_000)


async def stats(page: Any) -> dict[str, Any]:
    return dict(await page.evaluate("JSON.parse(JSON.stringify(window.__audioChat.stats))"))


async def wait_for_turns(page: Any, count: int, seconds: float = 60) -> None:
    await page.wait_for_function(
        f"() => document.querySelectorAll('#conversation li.helper:not(.pending)').length >= {count} "
        "&& ['listening', 'ready'].includes(document.querySelector('#status').dataset.state)",
        timeout=seconds * 1000,
    )


def newest_uplink(service: Service) -> bytes:
    files = sorted(service.archive.glob("*.pcm"), key=lambda path: path.stat().st_mtime)
    return files[-1].read_bytes()


async def test_offline_voice_turn_from_microphone_to_speaker(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    question = await spoken_question("How do I open the red door?", lead_seconds=0.8, tail_seconds=2.0)
    page = await browser_for(write_wav(tmp_path / "question.wav", question))
    await start_chat(page, offline_service)
    await page.screenshot(path=ARTIFACTS / "offline-listening.png")
    await page.wait_for_function(
        "() => document.querySelector('#status').dataset.state === 'helper speaking'", timeout=30_000
    )
    await page.screenshot(path=ARTIFACTS / "offline-helper-speaking.png")
    await wait_for_turns(page, 1)
    await page.screenshot(path=ARTIFACTS / "offline-turn-done.png")
    player = (await stats(page))["player"]
    child = await page.inner_text("#conversation li.child")
    helper = await page.inner_text("#conversation li.helper")
    await page.evaluate("window.__audioChat.close()")  # stops the microphone first: no frame after the count
    sent = (await stats(page))["bytesSent"]
    await asyncio.sleep(0.5)  # the server writes the connection's uplink when it closes

    assert "door" in child.lower() or "red" in child.lower(), child
    assert helper.startswith("The red door needs a key.")
    assert player["played"] > 24_000 * 2, "the reply was rendered by the player worklet"
    assert player["underruns"] <= 2
    received = newest_uplink(offline_service)
    assert len(received) == sent, "every frame the page sent reached the server"
    seconds = len(received) / 32_000
    assert len(question) / 32_000 - 0.5 < seconds, "the whole question was captured"
    windows = window_correlations(question, received)
    assert correlation(question, received) > 0.9, f"the page captured the microphone faithfully: {windows}"


async def test_speaking_over_the_helper_stops_playback_within_one_render_quantum(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    first = await spoken_question("How do I open the red door?", lead_seconds=0.5, tail_seconds=1.6)
    second = await spoken_question("Where is the key?", lead_seconds=0.0, tail_seconds=3.0, seed=3)
    page = await browser_for(write_wav(tmp_path / "barge-in.wav", first + second))
    await start_chat(page, offline_service)
    await page.wait_for_function("() => window.__audioChat.stats.interruptedAt !== null", timeout=40_000)
    await asyncio.sleep(0.3)
    after_flush = (await stats(page))["player"]
    await asyncio.sleep(0.4)
    later = (await stats(page))["player"]
    await page.screenshot(path=ARTIFACTS / "offline-interrupted.png")
    await wait_for_turns(page, 2)
    assert after_flush["flushes"] >= 1
    assert after_flush["playedAfterFlush"] <= 128, "the fade after a flush lasts less than one render quantum"
    assert later["played"] == after_flush["played"], "nothing plays between the flush and the next reply"
    assert await page.locator("#conversation li.helper.cut").count() >= 1


async def test_a_reconnect_shows_and_continues_the_stored_conversation(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    question = await spoken_question("I can't find the key.", lead_seconds=0.5, tail_seconds=2.0)
    page = await browser_for(write_wav(tmp_path / "key.wav", question))
    await start_chat(page, offline_service)
    await wait_for_turns(page, 1)
    await page.evaluate("window.__audioChat.close()")
    await page.reload()
    await page.click("#resume")
    await page.wait_for_function("() => window.__demo.phase === 'ready'", timeout=30_000)
    assert (await page.evaluate("window.__demo.connection.history_message_count")) >= 2
    assert await page.locator("#conversation li.helper").count() >= 1, "the stored conversation is shown"
    await page.fill("#text", "How do I use the key?")
    await page.click("#text-form button")
    await wait_for_turns(page, 2)
    await page.screenshot(path=ARTIFACTS / "offline-resumed.png")
    assert "hold the key" in (await page.locator("#conversation li.helper").last.inner_text())


async def test_the_page_works_at_360_px_wide(browser_for, offline_service: Service, tmp_path: Path) -> None:
    page = await browser_for(write_wav(tmp_path / "quiet.wav", bytes(32_000)), viewport={"width": 360, "height": 740})
    await start_chat(page, offline_service)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.uncheck("#hands-free")  # hold-to-talk shows the big button
    box = await page.locator("#talk").bounding_box()
    assert box is not None and box["height"] >= 48
    await page.screenshot(path=ARTIFACTS / "narrow-360.png", full_page=True)


def emulator_records(service: Service) -> list[dict[str, Any]]:
    context = ssl.create_default_context(cafile=service.emulator_ca)
    with urllib.request.urlopen(f"{service.emulator_url}/emulator/records", context=context, timeout=5) as response:  # noqa: S310
        return list(json.loads(response.read()))


async def test_live_mode_against_the_emulator(browser_for, live_service: Service, tmp_path: Path) -> None:
    question = await spoken_question("How do I open the red door?", lead_seconds=0.8, tail_seconds=2.5)
    page = await browser_for(write_wav(tmp_path / "live.wav", question))
    await start_chat(page, live_service)
    assert await page.evaluate("window.__demo.connection.mode") == "live"
    await wait_for_turns(page, 1)
    await page.screenshot(path=ARTIFACTS / "live-turn-done.png")
    player = (await stats(page))["player"]
    helper = await page.inner_text("#conversation li.helper")
    await page.evaluate("window.__audioChat.close()")
    sent = (await stats(page))["bytesSent"]
    await asyncio.sleep(0.5)
    records = await asyncio.to_thread(emulator_records, live_service)
    assert helper.startswith("The red door needs a key.")
    assert player["played"] > 24_000
    assert records[-1]["audio_bytes"] >= len(question) * 0.9
    received = newest_uplink(live_service)
    assert len(received) == sent
    windows = window_correlations(question, received)
    assert correlation(question, received) > 0.9, f"the page captured the microphone faithfully: {windows}"
    assert np.isfinite(player["played"])


async def test_the_page_works_under_its_content_security_policy(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(write_wav(tmp_path / "quiet.wav", bytes(32_000)))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    await page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (event) => window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));"
    )
    response = await page.goto(offline_service.base_url + "/?processing=off")
    assert response is not None
    headers = await response.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "microphone=(self)" in headers["permissions-policy"]
    # Start: the microphone, both AudioWorklet modules and the WebSocket; then a typed turn and its reply.
    await start_chat(page, offline_service)
    await page.fill("#text", "how do I open the red door")
    await page.press("#text", "Enter")
    await wait_for_turns(page, 1)
    assert (await page.inner_text("#conversation li.helper")).startswith("The red door needs a key.")
    assert await page.evaluate("window.__cspViolations") == []
    assert violations == []


async def test_an_opus_turn_through_webcodecs_from_microphone_to_speaker(
    browser_for, offline_service: Service, tmp_path: Path
) -> None:
    question = await spoken_question("How do I open the red door?", lead_seconds=0.8, tail_seconds=2.0)
    page = await browser_for(write_wav(tmp_path / "question.wav", question))
    await start_chat(page, offline_service, query="?processing=off")  # no codec asked: Opus when WebCodecs has it
    assert await page.evaluate("window.__demo.connection.audio_format.input.codec") == "opus"
    assert await page.evaluate("window.__demo.connection.audio_format.output.codec") == "opus"
    assert "Opus" in await page.inner_text("#codec"), "the page shows the codec in use"
    await wait_for_turns(page, 1)
    await page.screenshot(path=ARTIFACTS / "opus-turn-done.png")
    # The helper's caption can come just before its first packet, when the page still looks idle: wait for the voice.
    await page.wait_for_function("() => (window.__audioChat.stats.player.played || 0) > 48000", timeout=15_000)
    child = await page.inner_text("#conversation li.child")
    helper = await page.inner_text("#conversation li.helper")
    await page.evaluate("window.__audioChat.close()")
    played = await stats(page)
    await asyncio.sleep(0.5)  # the server writes the connection's uplink when it closes

    assert "door" in child.lower() or "red" in child.lower(), child
    assert helper.startswith("The red door needs a key.")
    assert played["player"]["played"] > 24_000 * 2, "the decoded reply was rendered by the player worklet"
    assert played["player"]["underruns"] <= 2
    assert played["bytesReceived"] < played["player"]["played"] * 2 / 5, "Opus packets came down, not PCM"
    received = newest_uplink(offline_service)  # the server archives the decoded 16 kHz PCM
    assert played["bytesSent"] < len(received) / 5, "Opus packets went up, not PCM"
    assert len(question) / 32_000 - 0.5 < len(received) / 32_000, "the whole question was captured"
    assert correlation(question, received) > 0.6, "the question survives capture, Opus and decoding"
    assert await page.evaluate("window.__demo.errors") == []
