"""The real `cockpit serve` in headless Chromium: the page loads, the app draws, keys work."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.browser_shot import Page, headless_chromium, served_cockpit
from tests.system_tools import need_chromium

pytestmark = pytest.mark.e2e

SIMULATE = ["--simulate", "rtx3050-4gb"]


async def _walk_places(devtools_port: int, url: str) -> None:
    page = await Page.attach(devtools_port)
    try:
        await page.open(url)
        hardware = await page.wait_for("RTX 3050", "SIMULATED", "GPU processes")
        assert "Target interpreter" not in hardware
        await page.press("2")
        doctor = await page.wait_for("Target interpreter")
        assert "GPU processes" not in doctor
        await page.press("1")
        await page.wait_for("GPU processes")
    finally:
        await page.close()


def test_browser_shows_the_app_and_keys_switch_places(tmp_path: Path) -> None:
    need_chromium()
    with (
        served_cockpit(SIMULATE, tmp_path) as (url, log),
        headless_chromium(tmp_path) as devtools_port,
    ):
        asyncio.run(_walk_places(devtools_port, url))
        said = log.read_text()
    assert "localhost only" in said
    assert "ssh -L " in said
    assert "Traceback" not in said


async def _handshake(url: str, path: str, origin: str | None) -> int:
    """The HTTP status a websocket handshake to `path` gets (101: accepted).

    A raw client: with `origin` None it sends no Origin header, as any local program can.
    """
    async with aiohttp.ClientSession(skip_auto_headers=["Origin"]) as http:
        try:
            ws = await http.ws_connect(f"{url}{path}?width=80&height=24", origin=origin)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status
        await ws.close()
        return 101


def test_a_session_needs_the_printed_key_and_our_own_page(tmp_path: Path) -> None:
    with served_cockpit(SIMULATE, tmp_path) as (keyed, _log):
        parts = urlsplit(keyed)
        url, key = f"{parts.scheme}://{parts.netloc}", parts.query.removeprefix("key=")
        # Another local account's program: no Origin, no key (or a guess) -> refused.
        assert asyncio.run(_handshake(url, "/ws", None)) == 403
        assert asyncio.run(_handshake(url, "/ws/" + "A" * len(key), None)) == 403
        # Another site's page, even one that knows the key -> refused.
        assert asyncio.run(_handshake(url, f"/ws/{key}", "http://evil.example")) == 403
        assert asyncio.run(_handshake(url, f"/ws/{key}", None)) == 101
        assert asyncio.run(_handshake(url, f"/ws/{key}", url)) == 101
