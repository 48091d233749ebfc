"""Direct WebRTC from the voice page: the ephemeral session, the SDP offer, the event mapping.

The fake of OpenAI answers the SDP exchange with a plausible but unreachable answer, so these
tests follow the page up to a negotiated call; the data channel's events are checked by feeding
the page's own mapper the GA event sequence of reference/openai-wire.md section 4.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.servers import DaphneServer
from tests.browser.pages import (
    Launch,
    forged_access_token,
    replace_access_token,
    screenshot,
    sign_in,
    wait_until,
)
from voice.models import SitePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def allow_cross_origin(page: Any, url: str) -> None:
    """The real service allows browsers to post SDP from any origin; the fake sends no CORS."""

    def fulfil(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(
            response=answer, headers={**answer.headers, "access-control-allow-origin": "*"}
        )

    page.route(url, fulfil)


def test_the_page_offers_sdp_to_rtc_url_with_the_ephemeral_key(
    chromium: Launch, voice_server: DaphneServer, fake_openai: Any
) -> None:
    page = chromium()
    allow_cross_origin(page, f"{fake_openai.base_url}/realtime/calls")
    sign_in(page, voice_server)
    page.check("input[name=transport][value=webrtc]")

    page.get_by_role("button", name="Start conversation").click()

    wait_until(page, "state.connection === 'negotiated'")
    secret = fake_openai.records.requests_to("realtime/client_secrets")[0]
    offer = fake_openai.records.requests_to("realtime/calls")[0]
    key = fake_openai.keys.check(offer.headers["authorization"], allow_ephemeral=True)
    assert key.ok and key.secret is not None  # an ephemeral key, not the server's own
    assert offer.headers["authorization"] != f"Bearer {fake_openai.api_key}"
    assert offer.headers["content-type"] == "application/sdp"
    assert offer.body.decode().startswith("v=0")
    assert "m=audio" in offer.body.decode() and "m=application" in offer.body.decode()
    assert secret.status == 200
    assert page.evaluate("() => document.getElementById('remote-audio').autoplay") is True
    screenshot(page, "webrtc-negotiated")


MAPPED = """async (events) => {
    const { RtcEventMapper } = await import('/static/voice/wires/rtc_events.js');
    const mapper = new RtcEventMapper();
    return events.flatMap((event) => mapper.map(event));
}"""


def test_realtime_events_become_transcripts_and_barge_in(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    page = chromium()
    page.goto(f"{voice_server.http_url}/")
    heard = "conversation.item.input_audio_transcription"
    events = [
        {"type": "session.created", "session": {"id": "sess_1"}},
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 10, "item_id": "u1"},
        {"type": f"{heard}.delta", "item_id": "u1", "delta": "hel"},
        {"type": f"{heard}.delta", "item_id": "u1", "delta": "lo"},
        {"type": "response.created", "response": {"id": "r1"}},
        {"type": "response.output_audio_transcript.delta", "delta": "Hi "},
        {"type": "response.audio_transcript.delta", "delta": "there"},  # a beta name
        {"type": f"{heard}.completed", "item_id": "u1", "transcript": "hello"},
        {"type": "response.output_audio_transcript.done", "transcript": "Hi there"},
        {"type": "output_audio_buffer.cleared", "response_id": "r1"},
        {"type": "error", "error": {"code": "response_cancel_not_active", "message": "none"}},
        {"type": "rate_limits.updated", "rate_limits": []},
    ]  # fmt: skip

    mapped = page.evaluate(MAPPED, events)

    assert mapped == [
        {"type": "session", "sessionId": "sess_1"},
        {"type": "vad", "active": True},
        {"type": "user", "text": "hel", "final": False},
        {"type": "user", "text": "hello", "final": False},
        {"type": "assistant_start"},
        {"type": "assistant_delta", "text": "Hi "},
        {"type": "assistant_delta", "text": "there"},
        {"type": "user", "text": "hello", "final": True},
        {"type": "assistant_done", "text": "Hi there"},
        {"type": "barge_in"},
        {"type": "remote_audio", "playing": False},
    ]


def test_tool_calls_over_webrtc_are_run_by_the_page(
    chromium: Launch, voice_server: DaphneServer
) -> None:
    SitePage.objects.create(slug="pricing", title="Pricing", path="/pricing", summary="Plans")
    page = chromium()
    sign_in(page, voice_server)  # the site tools run on the server, for a signed-in user

    result = page.evaluate(
        """async () => {
            const { Auth } = await import('/static/voice/auth.js');
            const { RtcEventMapper } = await import('/static/voice/wires/rtc_events.js');
            const { runTool } = await import('/static/voice/tools.js');
            const [call] = new RtcEventMapper().map({
                type: 'response.function_call_arguments.done', call_id: 'call_1',
                name: 'set_theme__setTheme', arguments: '{"mode": "dark"}',
            });
            const changes = [];
            const where = [];
            const page = {
                auth: new Auth(),
                navigate: (w) => where.push(w),
                setState: (c) => changes.push(c),
            };
            const output = await runTool(call.name, call.args, page);
            const navigated = await runTool('navigate_to_page', { page: 'Pricing page' }, page);
            const searched = await runTool('search_site', { query: 'plans' }, page);
            const unknown = await runTool('teleport', {}, page);
            return { call, output, changes, navigated, where, searched, unknown };
        }"""
    )

    assert result["call"] == {
        "type": "tool_call",
        "name": "set_theme__setTheme",
        "callId": "call_1",
        "args": {"mode": "dark"},
    }
    assert result["output"] == {"ok": True, "applied": "theme.setTheme"}
    assert result["changes"] == [
        {"stateKey": "theme", "setterKey": "setTheme", "args": {"mode": "dark"}}
    ]
    assert result["navigated"] == {"ok": True, "page": "Pricing", "path": "/pricing"}
    assert result["where"] == [{"page": "pricing", "path": "/pricing", "title": "Pricing"}]
    assert result["searched"] == {
        "results": [{"title": "Pricing", "path": "/pricing", "summary": "Plans"}]
    }
    assert result["unknown"] == {"error": "unknown tool teleport"}


def test_a_site_tool_over_webrtc_renews_a_rejected_token(
    chromium: Launch, voice_server: DaphneServer, alice: User
) -> None:
    SitePage.objects.create(slug="pricing", title="Pricing", path="/pricing", summary="Plans")
    page = chromium()
    sign_in(page, voice_server)
    replace_access_token(page, forged_access_token(alice))

    result = page.evaluate(
        """async () => {
            const { Auth } = await import('/static/voice/auth.js');
            const { runTool } = await import('/static/voice/tools.js');
            const auth = new Auth();
            const page = { auth, navigate: () => {}, setState: () => {} };
            const output = await runTool('search_site', { query: 'plans' }, page);
            return { output, refreshes: auth.refreshes };
        }"""
    )

    assert result == {
        "output": {"results": [{"title": "Pricing", "path": "/pricing", "summary": "Plans"}]},
        "refreshes": 1,
    }
