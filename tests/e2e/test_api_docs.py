"""The API documentation pages in Chromium with every request beyond this machine refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ARTIFACTS, Service, write_wav

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]


async def offline_browser_page(browser_for: Any, tmp_path: Path) -> tuple[Any, list[str]]:
    """A page whose requests to anything but this machine are aborted, and the list of those it tried."""
    page = await browser_for(write_wav(tmp_path / "silence.wav", bytes(3200)))
    outside: list[str] = []

    async def only_this_machine(route: Any) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", only_this_machine)
    return page, outside


@pytest.mark.parametrize(
    ("path", "rendered"), [("/api/redoc/", ".api-content h1"), ("/api/docs/", ".swagger-ui .title")]
)
async def test_the_api_docs_render_with_the_network_blocked(
    browser_for: Any, offline_service: Service, tmp_path: Path, path: str, rendered: str
) -> None:
    page, outside = await offline_browser_page(browser_for, tmp_path)
    await page.goto(offline_service.base_url + path)
    title = page.locator(rendered).first
    await title.wait_for(state="visible", timeout=30_000)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=ARTIFACTS / f"api-docs-{path.strip('/').replace('/', '-')}.png")
    assert "audio-chat API" in await title.inner_text()
    assert await page.locator("text=/sessions/").count() > 0, "the operations are listed"
    assert outside == [], "nothing is fetched from beyond this machine"
