"""The browser tests' fixtures: Chromium with a fake microphone, and a voice server.

The browser is Debian's Chromium (``apt-get install -y chromium``) driven by Playwright's Python
package (never ``playwright install``). Chromium's fake capture device plays a WAV file made by
the test as the microphone, so the page's real getUserMedia -> AudioWorklet path runs. Tests skip
with the reason when the browser or Playwright is missing, and fail instead under
VOICE_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.models import User

from devtools.servers import DaphneServer
from tests.browser.chromium import HEADLESS_ARGS, require_browser
from tests.browser.pages import TIMEOUT_MS, Launch, speech_like_wav

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

CHROMIUM_ARGS = [
    *HEADLESS_ARGS,
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def record_policy_violation(message: Any, problems: list[str]) -> None:
    """The page's CSP must not block anything the page itself does."""
    if message.type == "error" and "Content Security Policy" in message.text:
        problems.append(message.text)


@pytest.fixture
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launch]:
    """``chromium(mic=None, grant_microphone=True, viewport=None) -> Page``.

    Every page it opens must finish without an uncaught error or a CSP violation.
    """
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse ORM
    # calls from the test; nothing here runs concurrently with them (Playwright's documented fix).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    page_errors: list[str] = []
    with sync_playwright() as playwright:
        browsers: list[Any] = []

        def launch(
            mic: Path | None = None,
            *,
            grant_microphone: bool = True,
            viewport: ViewportSize | None = None,
        ) -> Page:
            # By default the user never stops talking: a push-to-talk turn always holds speech
            # (the pipeline does not upload silent audio).
            mic = mic or speech_like_wav(tmp_path / "mic.wav", lead_s=0, silence_s=0)
            args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
            if grant_microphone:
                args.append("--use-fake-ui-for-media-stream")
            browser = playwright.chromium.launch(executable_path=str(executable), args=args)
            browsers.append(browser)
            context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("console", lambda message: record_policy_violation(message, page_errors))
            return page

        try:
            yield launch
        finally:
            for browser in browsers:
                browser.close()
    assert page_errors == [], "uncaught errors or Content-Security-Policy violations in the page"


@pytest.fixture
def voice_server(daphne_factory: Any, fake_openai: Any, alice: User) -> DaphneServer:
    """Daphne with the pipeline engine, talking to the fake of OpenAI."""
    fake_openai.config.transcript = "what can you do"
    fake_openai.config.reply = "I can answer questions about this site."
    server: DaphneServer = daphne_factory(
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
    )
    return server
