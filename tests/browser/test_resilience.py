"""The voice page when things go wrong: restarts, rejected tokens, limits, plain-word errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken

from devtools.servers import DaphneServer
from tests.browser.pages import (
    Launch,
    forged_access_token,
    push_to_talk,
    replace_access_token,
    screenshot,
    sign_in,
    start,
    stored_tokens,
    voice_state,
    wait_until,
)
from voice.services.sessions import end_session_by_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAMES = {"voice-ws": 25, "api-voice-ws": 15}


@pytest.mark.parametrize("transport", ["voice-ws", "api-voice-ws"])
def test_the_page_reconnects_after_a_server_restart_and_the_conversation_goes_on(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any, transport: str
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    start(page, transport, "push-to-talk")
    push_to_talk(page, FRAMES[transport])
    wait_until(page, "state.assistantText.endsWith('this site.')")
    fake_openai.clear()

    voice_server.stop()
    wait_until(page, "state.connection === 'reconnecting'")
    alert = page.get_by_role("alert").inner_text()  # read once: the text moves on as it retries
    assert "cannot be reached" in alert or "lost" in alert
    voice_server.start()  # the same port
    wait_until(page, "state.connection === 'ready' && state.reconnects === 1", 30_000)
    push_to_talk(page, FRAMES[transport])

    wait_until(page, "document.querySelectorAll('#log .entry.user').length === 2")
    assert page.get_by_role("alert").is_hidden()
    if transport == "api-voice-ws":
        # The new session was told what had been said (config.context.conversation).
        chat = fake_openai.records.requests_to("chat/completions")[0]
        assert "what can you do" in chat.json["messages"][0]["content"]


def test_a_session_ended_by_staff_stays_ended_until_the_user_starts_again(
    chromium: Launch, daphne_factory: Any, fake_openai: Any, alice: User, sam: User
) -> None:
    server = daphne_factory(
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        VOICE_HEARTBEAT_SECONDS="0.2",  # the owner notices the staff's end this fast
    )
    page = chromium()
    sign_in(page, server)
    start(page, "voice-ws", "push-to-talk")

    assert end_session_by_staff(voice_state(page)["sessionId"], sam.pk, "test")

    wait_until(page, "state.connection === 'idle' && state.microphone === 'off'")
    assert page.get_by_role("alert").inner_text() == "The conversation was ended by the server."
    assert voice_state(page)["sessions"] == 1  # a normal close (1000) is not retried
    page.get_by_role("button", name="Start conversation").click()
    wait_until(page, "state.connection === 'ready' && state.sessions === 2")


def test_control_messages_wait_for_the_connection(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    # Handles to the page's objects, so nothing is left on the page's window.
    transport = page.evaluate_handle(
        """async () => {
            const { Auth } = await import('/static/voice/auth.js');
            const { JsonWire } = await import('/static/voice/wires/json.js');
            const { SocketTransport } = await import('/static/voice/transports/socket.js');
            const setup = () => ({ settings: { voiceId: 'alloy' }, context: {} });
            const transport = new SocketTransport(new JsonWire(), new Auth(), setup);
            transport.pongs = [];
            transport.addEventListener('event', ({ detail }) => {
                if (detail.type === 'pong') transport.pongs.push(detail.data);
            });
            transport.sendControl({ type: 'ping', payload: 'before connecting' });
            transport.connect();
            return transport;
        }"""
    )
    page.wait_for_function("(t) => t.pongs.includes('before connecting')", arg=transport)

    voice_server.stop()
    page.wait_for_function("(t) => t.state === 'reconnecting'", arg=transport)
    transport.evaluate("(t) => t.sendControl({type: 'ping', payload: 'while down'})")
    voice_server.start()

    page.wait_for_function("(t) => t.pongs.includes('while down')", arg=transport, timeout=30_000)


@pytest.mark.parametrize("transport", ["voice-ws", "api-voice-ws"])
def test_a_rejected_token_is_renewed_without_losing_the_conversation(
    chromium: Launch, voice_server: DaphneServer, alice: User, transport: str
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    start(page, transport, "push-to-talk")
    push_to_talk(page, FRAMES[transport])
    wait_until(page, "state.assistantText.endsWith('this site.')")
    page.get_by_role("button", name="Stop conversation").click()
    tokens = stored_tokens(page)
    assert tokens is not None
    first_refresh = tokens["refresh"]

    # /voice-ws refuses it at the handshake (HTTP 403); /api/voice/ws closes with 4401.
    replace_access_token(page, forged_access_token(alice))
    page.get_by_role("button", name="Start conversation").click()

    wait_until(page, "state.connection === 'ready' && state.tokenRefreshes === 1")
    renewed = stored_tokens(page)
    assert renewed is not None and renewed["refresh"] != first_refresh  # rotated, new one kept
    assert page.locator("#log .entry").count() == 2
    push_to_talk(page, FRAMES[transport])
    wait_until(page, "document.querySelectorAll('#log .entry.user').length === 2")


def test_an_access_token_is_renewed_before_it_expires(
    chromium: Launch, voice_server: DaphneServer, alice: User
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    now = int(time.time())
    # 60 s of life with 10 s left: inside the last fifth, when the page renews it.
    nearly_expired = AccessToken.for_user(alice)
    nearly_expired.payload.update(iat=now - 50, exp=now + 10)
    replace_access_token(page, str(nearly_expired))
    before = stored_tokens(page)

    renewing = page.evaluate_handle(
        """async () => {
            const { Auth } = await import('/static/voice/auth.js');
            return new Auth();  // schedules its refresh from the stored token
        }"""
    )

    page.wait_for_function("(auth) => auth.refreshes === 1", arg=renewing)
    after = stored_tokens(page)
    assert before is not None and after is not None
    assert after["access"] != before["access"] and after["refresh"] != before["refresh"]


def test_an_expired_sign_in_sends_the_user_back_to_the_sign_in_form(
    chromium: Launch, voice_server: DaphneServer, alice: User
) -> None:
    page = chromium()
    sign_in(page, voice_server)
    page.evaluate(
        """(access) => sessionStorage.setItem('voice.auth',
            JSON.stringify({access, refresh: 'revoked', username: 'alice'}))""",
        forged_access_token(alice),
    )

    page.get_by_role("button", name="Start conversation").click()

    page.locator("#signin-panel").wait_for(state="visible")
    assert "Please sign in again" in page.get_by_role("alert").inner_text()
    assert stored_tokens(page) is None


def test_a_wrong_password_is_explained(chromium: Launch, voice_server: DaphneServer) -> None:
    page = chromium()
    page.goto(f"{voice_server.http_url}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")

    page.get_by_label("Password").press("Enter")

    alert = page.get_by_role("alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "That username and password do not match an account."


def test_a_denied_microphone_is_explained(chromium: Launch, voice_server: DaphneServer) -> None:
    page = chromium(grant_microphone=False)
    sign_in(page, voice_server)

    page.get_by_role("button", name="Start conversation").click()

    alert = page.get_by_role("alert")
    alert.wait_for(state="visible")
    assert alert.inner_text().startswith("Microphone access was denied.")
    assert voice_state(page)["microphone"] == "denied"
    screenshot(page, "microphone-denied")


def test_rate_limiting_is_explained(
    chromium: Launch, daphne_factory: Any, fake_openai: Any, alice: User
) -> None:
    server = daphne_factory(
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        VOICE_MESSAGE_RATE="1",
        VOICE_MESSAGE_BURST="3",
    )
    page = chromium()
    sign_in(page, server)
    start(page, "api-voice-ws", "push-to-talk")

    page.locator("#ptt").focus()
    page.keyboard.down("Space")

    wait_until(page, "state.errors.some((e) => e.code === 'rate_limited')")
    page.keyboard.up("Space")
    assert "rate limited" in page.get_by_role("alert").inner_text()
