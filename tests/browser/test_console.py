"""The console in a real headless Chromium, over two Daphne processes sharing Redis.

Daphne A serves the console to the browser; voice clients talk to Daphne B. Whatever B's
sessions do must show up in A's page without a reload. Screenshots go to artifacts/console/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from devtools.servers import ROOT, DaphneServer
from tests.browser.chromium import HEADLESS_ARGS as CHROMIUM_ARGS
from tests.browser.chromium import require_browser
from tests.conftest import token_for
from voice.models import VoiceSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "artifacts" / "console"
# How fast a change on B must reach the page on A (the console promises within one second).
LIVE_MS = 1000
PAGE_MS = 10_000  # page loads and log-in
VOICE_TIMEOUT = 10


@pytest.fixture
def chromium_executable() -> Path:
    """Debian's Chromium, driven by Playwright (never a browser Playwright downloads)."""
    return require_browser()


@pytest.fixture
async def browser(chromium_executable: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def servers(redis_url: str, daphne_factory: Any, fake_openai: Any) -> dict[str, DaphneServer]:
    """A console server and a voice server: two OS processes joined only by Redis and the DB."""
    fake_openai.config.reply = "Sure. It is ten euros."
    quiet = {"LOG_LEVEL": "WARNING", "REDIS_URL": redis_url}
    return {
        "console": daphne_factory(**quiet),
        "voice": daphne_factory(
            **quiet,
            VOICE_ENGINE="openai-pipeline",
            OPENAI_API_KEY=fake_openai.api_key,
            OPENAI_BASE_URL=fake_openai.base_url,
        ),
    }


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def log_in(page: Any, server: DaphneServer, username: str, password: str) -> None:
    """Through the admin login form, as an operator would."""
    from playwright.async_api import expect

    await page.goto(f"{server.http_url}/console/")
    await expect(page).to_have_url(re.compile(r"/admin/login/\?next=/console/"), timeout=PAGE_MS)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{server.http_url}/console/", timeout=PAGE_MS)
    live = page.locator('#socket-status[data-state="live"]')
    await expect(live).to_be_visible(timeout=PAGE_MS)


def session_cookie(user: User, server: DaphneServer) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": server.http_url}


async def until(ws: Any, kind: str) -> None:
    while True:
        raw = await ws.recv()
        if isinstance(raw, str) and json.loads(raw)["type"] == kind:
            return


def row_of(session_id: str) -> VoiceSession:
    return VoiceSession.objects.get(pk=session_id)


async def test_others_are_sent_to_the_admin_login(
    browser: Any, servers: dict[str, DaphneServer], alice: User
) -> None:
    from playwright.async_api import expect

    console = servers["console"]
    context = await browser.new_context()
    page = await context.new_page()

    await page.goto(f"{console.http_url}/console/")
    await expect(page).to_have_url(re.compile(r"/admin/login/\?next=/console/"), timeout=PAGE_MS)
    await context.add_cookies([await database_sync_to_async(session_cookie)(alice, console)])
    await page.goto(f"{console.http_url}/console/")

    await expect(page).to_have_url(re.compile(r"/admin/login/\?next=/console/"), timeout=PAGE_MS)
    await expect(page.locator("#live-sessions")).to_have_count(0)
    await screenshot(page, "refused-non-staff")
    await context.close()


async def test_a_session_on_another_process_is_shown_live(
    browser: Any, servers: dict[str, DaphneServer], alice: User, sam: User
) -> None:
    from playwright.async_api import expect

    page = await browser.new_page()
    await log_in(page, servers["console"], "sam", "sam-password-1")
    await expect(page.locator("#no-sessions")).to_be_visible()
    await page.evaluate("window.consoleMarker = 'never reloaded'")
    await screenshot(page, "1-empty")
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    url = f"{servers['voice'].ws_url}/api/voice/ws"

    async with connect(url, additional_headers=headers, open_timeout=VOICE_TIMEOUT) as ws:
        session_id = json.loads(await ws.recv())["sessionId"]
        row = page.locator(f'tr[data-session-id="{session_id}"]')
        await expect(row).to_be_visible(timeout=LIVE_MS)
        await expect(row.locator('[data-field="user"]')).to_have_text("alice")
        await expect(row.locator('[data-field="turns"]')).to_have_text("0")
        await expect(row.locator('[data-field="state"]')).to_have_text("idle")
        await screenshot(page, "2-session-open")

        await ws.send(json.dumps({"type": "text", "text": "How much is it?"}))
        await expect(row.locator('[data-field="turns"]')).to_have_text("1", timeout=LIVE_MS)
        await until(ws, "audio_complete")
        latency = row.locator('[data-field="latency"]')
        await expect(latency).to_have_text(re.compile(r"^\d+ ms$"), timeout=LIVE_MS)
        await expect(row.locator('[data-field="state"]')).to_have_text("idle")
        await screenshot(page, "3-after-a-turn")

    await expect(row).to_have_count(0, timeout=LIVE_MS)
    await expect(page.locator("#no-sessions")).to_be_visible()
    assert await page.evaluate("window.consoleMarker") == "never reloaded"
    await screenshot(page, "4-session-closed")

    await page.goto(f"{servers['console'].http_url}/console/sessions/{session_id}/")
    await expect(page.get_by_text("How much is it?")).to_be_visible()
    await expect(page.locator("svg.pygal-chart")).to_have_count(1)
    await screenshot(page, "5-session-detail")
    await page.goto(f"{servers['console'].http_url}/console/latency/")
    await expect(page.locator("svg.pygal-chart")).to_have_count(6)
    await screenshot(page, "6-latency")
    await page.close()


async def test_staff_end_a_session_on_another_process_from_the_page(
    browser: Any, servers: dict[str, DaphneServer], alice: User, sam: User
) -> None:
    from playwright.async_api import expect

    page = await browser.new_page()
    await log_in(page, servers["console"], "sam", "sam-password-1")
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    url = f"{servers['voice'].ws_url}/api/voice/ws"

    async with connect(url, additional_headers=headers, open_timeout=VOICE_TIMEOUT) as ws:
        session_id = json.loads(await ws.recv())["sessionId"]
        row = page.locator(f'tr[data-session-id="{session_id}"]')
        await expect(row).to_be_visible(timeout=LIVE_MS)
        await row.get_by_label("Reason for ending session of alice").fill("test call")
        await screenshot(page, "7-before-ending")
        clicked = time.monotonic()
        await row.get_by_role("button", name="End session of alice").click()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
        elapsed = time.monotonic() - clicked

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    assert elapsed < VOICE_TIMEOUT
    await expect(row).to_have_count(0, timeout=LIVE_MS)
    await expect(page.locator("#console-notice")).to_have_text("Session ended (test call).")
    await screenshot(page, "8-ended")
    record = await database_sync_to_async(row_of)(session_id)
    assert record.ended_by_id == sam.pk and record.end_reason == "test call"
    await page.close()
