"""The demo page in a long chat: controls in reach, hold-to-talk, Stop, close codes and the order of typed replies."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, Service, write_wav
from voice.protocol import CloseCode

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CONTROLS = ["#status", "#stop", "#hands-free", "#text", "#send"]


def quiet_wav(tmp_path: Path) -> Path:
    """Silence as the microphone: frames flow, and the offline engine hears no speech in them."""
    return write_wav(tmp_path / "quiet.wav", bytes(32_000))


async def start_chat(page: Any, service: Service) -> None:
    await page.goto(service.base_url + "/?processing=off&codec=pcm")  # PCM: audio sent is counted in seconds
    await page.wait_for_function("() => document.querySelectorAll('#level option').length >= 3")
    await page.select_option("#level", "castle-red-door")
    await page.click("#start")
    await page.wait_for_function("() => window.__demo.phase === 'ready' && window.__audioChat.capture", timeout=30_000)


async def continue_chat_with_turns(page: Any, service: Service, turns: int) -> None:
    """A session with `turns` stored exchanges (through the REST API, as a game would), continued on the page."""
    await page.goto(service.base_url + "/?processing=off&codec=pcm")  # PCM: audio sent is counted in seconds
    await page.evaluate(
        """async (turns) => {
          const csrf = document.cookie.match(/csrftoken=([^;]*)/)[1];
          const post = (path, body, token) => fetch(path, {method: "POST", body: JSON.stringify(body),
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                      ...(token ? {Authorization: `Bearer ${token}`} : {})}}).then((r) => r.json());
          const session = await post("/demo/sessions/", {level: "castle-red-door", child_age: 6});
          for (let turn = 0; turn < turns; turn++) {
            await post(`/api/sessions/${session.id}/messages/`, {content: `Where is the key? (${turn + 1})`},
                       session.client_token);
          }
          localStorage.setItem("audio-chat:last-session", JSON.stringify(session));
        }""",
        turns,
    )
    await page.reload()
    await page.click("#resume")
    await page.wait_for_function("() => window.__demo.phase === 'ready' && window.__audioChat.capture", timeout=30_000)
    assert await page.locator("#conversation li.helper").count() >= turns


async def in_reach(page: Any, selector: str) -> bool:
    """Inside the viewport and not covered by anything else: a click there reaches the control."""
    return bool(
        await page.evaluate(
            """(selector) => {
              const element = document.querySelector(selector);
              const box = element.getBoundingClientRect();
              if (box.width === 0 || box.bottom > innerHeight || box.top < 0 || box.right > innerWidth) return false;
              const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
              return hit === element || element.contains(hit) || hit.contains(element);
            }""",
            selector,
        )
    )


async def bytes_sent(page: Any) -> int:
    return int(await page.evaluate("window.__audioChat.stats.bytesSent"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
async def test_controls_stay_in_reach_after_ten_turns(
    browser_for: Any, offline_service: Service, tmp_path: Path, viewport: dict[str, int]
) -> None:
    page = await browser_for(quiet_wav(tmp_path), viewport=viewport)
    await continue_chat_with_turns(page, offline_service, 10)
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert await page.evaluate("document.documentElement.scrollHeight") > viewport["height"] * 1.5, "a long chat"
    for selector in CONTROLS:
        assert await in_reach(page, selector), f"{selector} is in reach at the end of the chat"
    await page.uncheck("#hands-free")
    assert await in_reach(page, "#talk")
    await page.evaluate("window.scrollTo(0, 0)")  # reading back to the start of the chat
    for selector in [*CONTROLS, "#talk"]:
        assert await in_reach(page, selector), f"{selector} is in reach at the top of the chat"
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    name = f"controls-{viewport['width']}x{viewport['height']}.png"
    await page.screenshot(path=ARTIFACTS / name)


async def test_holding_to_talk_for_three_seconds_in_a_long_chat_sends_three_seconds(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path), viewport=DESKTOP)
    await continue_chat_with_turns(page, offline_service, 10)
    await page.uncheck("#hands-free")
    await asyncio.sleep(0.3)
    before = await bytes_sent(page)
    box = await page.locator("#talk").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    pressed_at = time.monotonic()
    for number in range(6):  # captions arrive while the button is held, and the page scrolls
        await asyncio.sleep(0.45)
        await page.evaluate(
            """(n) => window.__audioChat.dispatchEvent(new CustomEvent("caption",
                 {detail: {speaker: "helper", text: `A new caption ${n} `.repeat(8), final: true}}))""",
            number,
        )
    await page.mouse.move(box["x"] + box["width"] / 2, 40)  # the pointer wanders off the button meanwhile
    await asyncio.sleep(3.0 - (time.monotonic() - pressed_at))
    assert await page.get_attribute("#talk", "aria-pressed") == "true", "the press survived the scrolling"
    await page.mouse.up()
    held = time.monotonic() - pressed_at
    await asyncio.sleep(0.3)
    sent_seconds = (await bytes_sent(page) - before) / 32_000
    await asyncio.sleep(0.5)
    assert await page.get_attribute("#talk", "aria-pressed") == "false"
    assert abs(sent_seconds - held) < 0.35, f"held {held:.2f} s, sent {sent_seconds:.2f} s of audio"
    assert (await bytes_sent(page) - before) / 32_000 == sent_seconds, "nothing is sent after the release"


async def test_stop_turns_the_microphone_off_and_keeps_the_session(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path), viewport=PHONE)
    await start_chat(page, offline_service)
    await page.wait_for_function("() => window.__audioChat.stats.bytesSent > 32000", timeout=10_000)
    assert await page.inner_text("#mic") == "Mic on"
    await page.click("#stop")
    await page.wait_for_function("() => window.__demo.phase === 'stopped'", timeout=5_000)
    stopped_at = await bytes_sent(page)
    await asyncio.sleep(1.0)
    assert await bytes_sent(page) == stopped_at, "no frame is sent after Stop"
    assert await page.evaluate("window.__audioChat.stream.getTracks().every((t) => t.readyState === 'ended')")
    assert await page.evaluate("window.__audioChat.socket.readyState") == 3, "the socket is closed"
    assert "Stopped" in await page.inner_text("#status")
    await page.screenshot(path=ARTIFACTS / "stopped-390.png")
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('audio-chat:last-session')).id")
    await page.click("#resume")  # the session was kept: Continue carries on with it
    await page.wait_for_function("() => window.__demo.phase === 'ready'", timeout=30_000)
    assert await page.evaluate("window.__demo.connection.session_id") == session_id


async def test_replies_to_quickly_typed_messages_follow_their_questions(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path), viewport=DESKTOP)
    await start_chat(page, offline_service)
    questions = ["Where is the key?", "How do I open the red door?", "Where is the key now?"]
    for question in questions:
        await page.fill("#text", question)
        await page.press("#text", "Enter")
    await page.wait_for_function(
        "() => document.querySelectorAll('#conversation li.helper').length === 3"
        " && !document.querySelector('#conversation li.pending')",
        timeout=60_000,
    )
    items = await page.eval_on_selector_all(
        "#conversation li", "(items) => items.map((item) => [item.className, item.textContent])"
    )
    assert [kind for kind, _ in items] == ["child", "helper"] * 3
    assert [text for _, text in items[::2]] == questions
    assert items[1][1].startswith("Look for something blue")
    assert items[3][1].startswith("The red door needs a key.")
    assert items[5][1].startswith("Go to the kitchen"), "asked again, the helper climbs the hint's ladder"


def connection_message() -> str:
    return json.dumps({"type": "connection", "mode": "offline", "model": "test", "session_id": "x",
                       "history_message_count": 0})  # fmt: skip


async def test_every_close_code_renders_its_sentence(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path), viewport=PHONE)
    closing = {"code": 0}

    async def close_after_connecting(socket: Any) -> None:
        socket.send(connection_message())
        await asyncio.sleep(0.2)
        await socket.close(code=closing["code"], reason="")

    await page.route_web_socket(re.compile(r"/ws/audio-chat/"), close_after_connecting)
    module = await page.goto(offline_service.base_url + "/static/audio_chat/demo.js")
    assert module is not None and module.ok
    sentences: dict[int, tuple[str, str]] = {}
    for code in CloseCode:
        closing["code"] = code.value
        await page.goto(offline_service.base_url + "/")
        await page.click("#start")
        await page.wait_for_function(f"() => window.__demo.closeCode === {code.value}", timeout=20_000)
        sentences[code.value] = (await page.inner_text("#status"), await page.inner_text("#status-detail"))
        assert await page.get_attribute("#status", "data-state") == "closed"
        await page.screenshot(path=ARTIFACTS / f"closed-{code.value}.png")
    expected = await page.evaluate(
        "import('/static/audio_chat/demo.js').then((m) => JSON.parse(JSON.stringify(m.CLOSE_MESSAGES)))"
    )
    for code in CloseCode:
        child, parent = sentences[code.value]
        assert child == expected[str(code.value)]["child"], code
        assert parent == expected[str(code.value)]["parent"], code
        assert str(code.value) in parent, "the parent's detail names the code"
    assert len({child for child, _ in sentences.values()}) >= 6, "each code says what happened, not one generic line"


async def test_a_busy_service_is_tried_again_after_its_hint_and_the_page_says_the_helper_is_busy(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path))
    attempts: list[float] = []

    async def busy_once(socket: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) > 1:
            socket.send(connection_message())
            return
        refusal = {"type": "error", "code": "overloaded", "message": "busy", "retry_after_seconds": 2}
        socket.send(json.dumps(refusal))
        await socket.close(code=CloseCode.TRY_AGAIN_LATER, reason="")

    await page.route_web_socket(re.compile(r"/ws/audio-chat/"), busy_once)
    await page.goto(offline_service.base_url + "/")
    await page.click("#start")
    await page.wait_for_function("() => document.querySelector('#status').textContent.includes('very busy')")
    await page.wait_for_function("() => window.__audioChat && window.__audioChat.connected", timeout=20_000)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.9, "at least half the 2 s the service asked for, not the usual 0.5 s"
    assert await page.locator("#conversation li.error").count() == 0, "the status line says it; no error bubble"
    assert not await page.evaluate("window.__audioChat.busy")


async def test_a_long_healthy_session_keeps_reconnecting_after_many_drops(
    browser_for: Any, offline_service: Service, tmp_path: Path
) -> None:
    page = await browser_for(quiet_wav(tmp_path))
    connections: list[float] = []

    async def drop_after_a_while(socket: Any) -> None:
        connections.append(time.monotonic())
        socket.send(connection_message())
        if len(connections) <= 6:
            await asyncio.sleep(0.5)  # longer than the test's healthyAfterMs
            await socket.close(code=1001, reason="")

    await page.route_web_socket(re.compile(r"/ws/audio-chat/"), drop_after_a_while)
    await page.goto(offline_service.base_url + "/")
    await page.evaluate(
        """async () => {
          const { AudioChatClient } = await import("/static/audio_chat/audio-chat-client.js");
          window.__client = new AudioChatClient({ healthyAfterMs: 300 });
          await window.__client.connect({ websocketPath: "/ws/audio-chat/x/", token: "t" });
        }"""
    )
    await page.wait_for_function(
        "() => window.__client.stats.reconnects === 6 && window.__client.connected", timeout=30_000
    )
    assert len(connections) == 7, "every drop of a healthy connection is retried, beyond the four retries"
    assert await page.evaluate("window.__client.connected")
