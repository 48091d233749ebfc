"""The voice page for everyone: a phone-sized screen, the keyboard alone, names and contrast."""

from __future__ import annotations

import pytest

from devtools.servers import DaphneServer
from tests.browser.pages import (
    Launch,
    screenshot,
    sign_in,
    start,
    voice_state,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, button, meter')]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
    .map((el) => el.outerHTML)"""

# WCAG relative luminance and contrast of an element's text against its nearest background.
LOW_CONTRAST = """(selectors) => {
    const rgb = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = (css) => {
        const [r, g, b] = rgb(css).map((v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (el) => {
        for (; el; el = el.parentElement) {
            const bg = getComputedStyle(el).backgroundColor;
            if (!bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
    };
    return selectors.flatMap((selector) => {
        const el = document.querySelector(selector);
        const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        return ratio < 4.5 ? [`${selector}: ${ratio.toFixed(2)}`] : [];
    });
}"""
CHECKED = ["body", "#start", ".hint", "#connection", "#status", "#user-live", "#assistant-live"]


def test_on_a_phone_sized_screen_nothing_overflows_and_talk_is_easy_to_hit(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium(viewport=PHONE)
    sign_in(page, voice_server)

    start(page, "voice-ws", "push-to-talk")

    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#ptt").bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 200
    screenshot(page, "phone")


def test_every_control_has_an_accessible_name(chromium: Launch, voice_server: DaphneServer) -> None:
    page = chromium()
    page.goto(f"{voice_server.http_url}/")
    assert page.evaluate(UNNAMED_CONTROLS) == []

    sign_in(page, voice_server)

    assert page.evaluate(UNNAMED_CONTROLS) == []
    assert page.get_by_role("log").get_attribute("aria-live") == "polite"
    assert page.locator("#status").get_attribute("aria-live") == "polite"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_keeps_enough_contrast(
    chromium: Launch, voice_server: DaphneServer, theme: str
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    if theme == "dark":
        page.get_by_role("button", name="Dark theme").click()

    assert page.evaluate(LOW_CONTRAST, CHECKED) == []


def test_the_conversation_can_be_run_from_the_keyboard(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    page.goto(f"{voice_server.http_url}/")
    page.get_by_label("Username").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("alice-password-1")
    page.keyboard.press("Enter")
    page.locator("#talk-panel").wait_for(state="visible")
    page.get_by_label("Hands-free: speak, pause, listen").focus()
    page.keyboard.press("ArrowDown")  # the radio group: push-to-talk
    page.get_by_role("button", name="Start conversation").focus()

    page.keyboard.press("Enter")
    wait_until(page, "state.connection === 'ready'")
    page.keyboard.press("Tab")  # to the talk button
    assert page.evaluate("() => document.activeElement.id") == "ptt"
    page.keyboard.down("Space")
    wait_until(page, "state.framesSent >= 25")
    page.keyboard.up("Space")

    wait_until(page, "state.assistantText === 'I can answer questions about this site.'")
    assert voice_state(page)["transport"] == "voice-ws"
