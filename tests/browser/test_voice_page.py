"""The voice page in headless Chromium against a real Daphne: turns, playback, barge-in, tools."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.servers import DaphneServer
from tests.browser.pages import (
    Launch,
    push_to_talk,
    screenshot,
    sign_in,
    speech_like_wav,
    start,
    voice_state,
    wait_until,
)
from voice.models import SitePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_REPLY = "This is a long answer for you. " * 8  # about 15 s of speech


def test_push_to_talk_over_voice_ws_shows_both_sides_and_plays_the_answer(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    start(page, "voice-ws", "push-to-talk")

    push_to_talk(page)

    wait_until(page, "state.userTranscript === 'what can you do'")
    wait_until(page, "state.assistantText === 'I can answer questions about this site.'")
    wait_until(page, "state.playedMs > 300")
    log = page.locator("#log")
    assert log.locator(".entry.user").inner_text() == "You: what can you do"
    assert log.locator(".entry.assistant").inner_text().endswith("questions about this site.")
    assert int(page.locator("#app").get_attribute("data-played-ms") or 0) > 0
    assert page.locator("#connection").inner_text() == "Connected"
    screenshot(page, "voice-ws-turn")


def test_push_to_talk_over_the_json_socket_shows_both_sides_and_plays_the_answer(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    start(page, "api-voice-ws", "push-to-talk")

    push_to_talk(page, frames=15)  # 40 ms chunks on this socket

    wait_until(page, "state.userTranscript === 'what can you do'")
    wait_until(page, "state.playedMs > 300")
    assert voice_state(page)["assistantText"] == "I can answer questions about this site."


@pytest.mark.parametrize("transport", ["voice-ws", "api-voice-ws"])
def test_hands_free_the_page_vad_ends_the_turn(
    chromium: Launch, voice_server: DaphneServer, tmp_path: Any, transport: str
) -> None:
    # One utterance, then a long silence: the pipeline engine finds no turns, the page does.
    page = chromium(speech_like_wav(tmp_path / "once.wav", voiced_s=1.0, silence_s=20))
    sign_in(page, voice_server)
    start(page, transport, "hands-free")

    wait_until(page, "state.userTranscript === 'what can you do'")

    wait_until(page, "state.playedMs > 300")
    assert voice_state(page)["serverVad"] is False


def test_holding_talk_over_the_assistant_drops_its_queued_audio(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any
) -> None:
    fake_openai.config.reply = LONG_REPLY  # delivered far faster than it plays: a long queue
    page = chromium()
    sign_in(page, voice_server)
    start(page, "voice-ws", "push-to-talk")
    push_to_talk(page)
    wait_until(page, "state.playedMs > 200 && state.queuedMs > 2000")

    page.keyboard.down("Space")

    wait_until(page, "state.bargeIns === 1 && !state.playing && state.queuedMs === 0")
    page.keyboard.up("Space")
    assert page.locator("#app").get_attribute("data-playing") == "false"
    assert voice_state(page)["lastBargeIn"] == "page"


@pytest.mark.parametrize("transport,frames", [("voice-ws", 25), ("api-voice-ws", 15)])
def test_the_server_stops_the_answer_when_the_user_barges_in(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any, transport: str, frames: int
) -> None:
    fake_openai.config.reply = LONG_REPLY
    fake_openai.config.tts_chunk_interval_ms = 120  # slower than real time: still speaking
    page = chromium()
    sign_in(page, voice_server)
    start(page, transport, "push-to-talk")
    push_to_talk(page, frames)
    wait_until(page, "state.playedMs > 200")

    page.keyboard.down("Space")

    wait_until(page, "state.serverBargeIns === 1 && !state.playing && state.queuedMs === 0")
    page.keyboard.up("Space")
    state = voice_state(page)
    assert state["bargeIns"] == 1 and state["lastBargeIn"] == "page"
    screenshot(page, f"barge-in-{transport}")


def test_the_page_vad_barges_in_when_the_user_speaks_over_the_answer(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any, tmp_path: Any
) -> None:
    # The fake microphone speaks again 3.8 s into the loop, while the long answer plays.
    fake_openai.config.reply = LONG_REPLY
    page = chromium(speech_like_wav(tmp_path / "twice.wav", voiced_s=1.0, silence_s=2.5))
    sign_in(page, voice_server)
    start(page, "voice-ws", "hands-free")

    wait_until(page, "state.bargeIns >= 1 && !state.playing", timeout_ms=20_000)

    assert voice_state(page)["lastBargeIn"] == "page"


def test_navigation_and_state_setters_are_acted_on(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any
) -> None:
    SitePage.objects.create(
        slug="pricing", title="Pricing", path="/pricing", summary="Plans and prices."
    )
    fake_openai.config.transcript_queue = ["open the pricing page", "use the dark theme please"]
    fake_openai.config.tool_rules = [
        ("pricing", "navigate_to_page", {"page": "pricing"}),
        ("dark", "set_theme__setTheme", {"mode": "dark"}),
    ]
    page = chromium()
    sign_in(page, voice_server)
    start(page, "api-voice-ws", "push-to-talk")

    push_to_talk(page, frames=15)
    wait_until(page, "state.navigation && state.navigation.path === '/pricing'")
    push_to_talk(page, frames=15)
    wait_until(page, "state.theme === 'dark'")

    assert page.locator("#where").inner_text() == "You are here: Pricing (/pricing)"
    assert page.locator("#where-page-summary").inner_text() == "Plans and prices."
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert page.locator("#theme-source").inner_text() == "(set by the assistant)"
    screenshot(page, "navigation-and-theme")


def test_navigation_reaches_the_page_over_voice_ws(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any
) -> None:
    SitePage.objects.create(slug="pricing", title="Pricing", path="/pricing")
    fake_openai.config.transcript = "open the pricing page"
    fake_openai.config.tool_rules = [("pricing", "navigate_to_page", {"page": "pricing"})]
    page = chromium()
    sign_in(page, voice_server)
    start(page, "voice-ws", "push-to-talk")

    push_to_talk(page)

    wait_until(page, "state.navigation && state.navigation.title === 'Pricing'")
    assert page.locator("#where").inner_text() == "You are here: Pricing (/pricing)"


def test_with_the_realtime_engine_the_server_finds_the_turns(
    chromium: Launch, daphne_factory: Any, fake_openai: Any, alice: User, tmp_path: Any
) -> None:
    server = daphne_factory(
        VOICE_ENGINE="openai-realtime",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
    )
    page = chromium(speech_like_wav(tmp_path / "once.wav", voiced_s=1.0, silence_s=20))
    sign_in(page, server)
    start(page, "voice-ws", "hands-free")

    wait_until(page, "state.userTranscript === 'hello there'")  # the fake's default

    wait_until(page, "state.playedMs > 300")
    assert voice_state(page)["serverVad"] is True  # so the page sent no voice_end of its own


def test_the_context_the_page_sends_keeps_within_the_servers_limit(
    chromium: Launch, daphne_factory: Any
) -> None:
    server = daphne_factory(VOICE_MAX_CONTEXT_BYTES="1024")
    page = chromium()
    page.goto(f"{server.http_url}/")

    context = page.evaluate(
        """async () => {
            const { Conversation } = await import('/static/voice/conversation.js');
            const ui = { userLive: () => {}, addLog: () => {}, status: () => {} };
            const conversation = new Conversation({ ui, player: {}, state: {}, auth: null });
            for (let turn = 1; turn <= 10; turn++) {
                conversation.on_user({ text: `turn ${turn}: ${'words '.repeat(40)}`, final: true });
            }
            return conversation.withHistory({ page: { path: '/' } });
        }"""
    )

    assert len(json.dumps(context, separators=(",", ":")).encode()) <= 1024
    assert 1 < len(context["conversation"]) < 10  # the oldest turns left out, not all
    assert context["conversation"][-1]["text"].startswith("turn 10:")


def test_the_page_puts_nothing_on_window_but_its_test_hook(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    # Before any of the page's scripts: the window's own names, under a key that is not one.
    page.add_init_script("window[Symbol.for('names')] = Object.getOwnPropertyNames(window);")
    sign_in(page, voice_server)
    start(page, "voice-ws", "push-to-talk")
    push_to_talk(page)
    wait_until(page, "state.playedMs > 300")

    added = page.evaluate(
        """() => {
            const before = new Set(window[Symbol.for('names')]);
            return Object.getOwnPropertyNames(window).filter((name) => !before.has(name));
        }"""
    )

    assert added == ["voiceTest"]
