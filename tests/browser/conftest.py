"""Shared pieces of the voice page's browser tests; this module holds no tests itself.

The browser is Debian's Chromium (``apt-get install -y chromium``) driven by Playwright's Python
package (never ``playwright install``). Chromium's fake capture device plays a WAV file made by
the test as the microphone, so the page's real getUserMedia -> AudioWorklet path runs. Tests skip
with the reason when the browser or Playwright is missing.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from django.contrib.auth.models import User

from devtools.servers import ROOT, DaphneServer
from tests.browser.chromium import CHROMIUM, HEADLESS_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = ROOT / "artifacts"
TIMEOUT_MS = 15_000
MIC_RATE = 48_000
CHROMIUM_ARGS = [
    *HEADLESS_ARGS,
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

Launch = Callable[..., "Page"]


def speech_like_wav(
    path: Path, *, lead_s: float = 0.3, voiced_s: float = 1.0, silence_s: float = 2.5
) -> Path:
    """A looping fake microphone: silence, a voice-like sound, silence.

    A pure tone would be flattened by the browser's noise suppression, so the sound is a
    140 Hz harmonic series under a 4 Hz syllable envelope, loud enough for the page's VAD.
    """
    t = np.arange(int(voiced_s * MIC_RATE)) / MIC_RATE
    harmonics = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    voiced = 0.25 * harmonics * 0.5 * (1 - np.cos(2 * np.pi * 4 * t))
    signal = np.concatenate(
        [np.zeros(int(lead_s * MIC_RATE)), voiced, np.zeros(int(silence_s * MIC_RATE))]
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(MIC_RATE)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def record_policy_violation(message: Any, problems: list[str]) -> None:
    """The page's CSP must not block anything the page itself does."""
    if message.type == "error" and "Content Security Policy" in message.text:
        problems.append(message.text)


@pytest.fixture
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Launch]:
    """``chromium(mic=None, grant_microphone=True, viewport=None) -> Page``.

    Every page it opens must finish without an uncaught error or a CSP violation.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get update && apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs Playwright's Python package: .venv/bin/pip install playwright==1.65.2")

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
            viewport: dict[str, int] | None = None,
        ) -> Page:
            # By default the user never stops talking: a push-to-talk turn always holds speech
            # (the pipeline does not upload silent audio).
            mic = mic or speech_like_wav(tmp_path / "mic.wav", lead_s=0, silence_s=0)
            args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={mic}"]
            if grant_microphone:
                args.append("--use-fake-ui-for-media-stream")
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
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
    return daphne_factory(
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
    )


def wait_until(page: Page, condition: str, timeout_ms: int = TIMEOUT_MS) -> Any:
    """Wait for a JavaScript condition over ``state`` (the page's ``window.voiceState``)."""
    # A function, not a string: the page's CSP forbids the eval a string predicate needs.
    return page.wait_for_function(
        f"() => {{ const state = window.voiceState; return {condition}; }}", timeout=timeout_ms
    )


def voice_state(page: Page) -> dict[str, Any]:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.voiceState))")


def sign_in(page: Page, server: DaphneServer, password: str = "alice-password-1") -> None:
    page.goto(f"{server.http_url}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#talk-panel").wait_for(state="visible")


def start(page: Page, transport: str = "voice-ws", mode: str = "push-to-talk") -> None:
    """Choose the transport and turn taking, press Start and wait for the session."""
    page.check(f"input[name=transport][value={transport}]")
    page.check(f"input[name=mode][value={mode}]")
    page.get_by_role("button", name="Start conversation").click()
    wait_until(page, "state.connection === 'ready'")


def push_to_talk(page: Page, frames: int = 25) -> None:
    """Hold Space on the talk button while ``frames`` microphone frames go out."""
    sent = voice_state(page)["framesSent"]
    page.locator("#ptt").focus()
    page.keyboard.down("Space")
    wait_until(page, f"state.framesSent >= {sent + frames}")
    page.keyboard.up("Space")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"voice-page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
