"""The voice page at ``/`` as Django serves it: the markup, its assets and its headers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from voice.engines.voices import REALTIME_VOICES, VOICES
from voice.models import SitePage
from voice.session.site_tools import SITE_TOOLS

pytestmark = pytest.mark.django_db

MODULES = (
    "app.js",
    "auth.js",
    "config.js",
    "conversation.js",
    "state.js",
    "tools.js",
    "ui.js",
    "audio/microphone.js",
    "audio/player.js",
    "audio/vad.js",
    "audio/worklets/capture.js",
    "audio/worklets/playback.js",
    "transports/backoff.js",
    "transports/rtc.js",
    "transports/socket.js",
    "wires/json.js",
    "wires/messages.js",
    "wires/rtc_events.js",
    "wires/stream.js",
)


def embedded(html: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def test_the_page_is_served_at_the_root(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form id="signin-form"' in html
    assert re.search(r'<script type="module" src="/static/voice/app\.js">', html)


def test_the_page_offers_every_protocol_voice(client: Client) -> None:
    html = client.get("/").content.decode()

    offered = re.findall(r'<option value="([a-z]+)">', html)
    assert set(VOICES) <= set(offered)


def test_the_site_pages_are_embedded_for_the_navigation_panel(client: Client) -> None:
    SitePage.objects.create(
        slug="pricing", title="Pricing", path="/pricing", summary="Plans </script> and prices"
    )

    pages = embedded(client.get("/").content.decode(), "site-pages")

    assert pages == [
        {
            "slug": "pricing",
            "title": "Pricing",
            "path": "/pricing",
            "summary": "Plans </script> and prices",
        }
    ]


def test_the_servers_facts_are_embedded_for_the_scripts(client: Client, settings: Any) -> None:
    settings.VOICE_MAX_CONTEXT_BYTES = 2048

    config = embedded(client.get("/").content.decode(), "voice-config")

    assert config["realtimeVoices"] == list(REALTIME_VOICES)
    assert config["siteTools"] == [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        }
        for tool in SITE_TOOLS
    ]
    assert config["limits"] == {"maxContextBytes": 2048}


def test_the_page_allows_scripts_from_its_own_origin_only(client: Client, settings: Any) -> None:
    settings.OPENAI_BASE_URL = "https://ai.example.com/v1"

    response = client.get("/", HTTP_HOST="localhost")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self' ws://localhost https://ai.example.com" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Permissions-Policy"].startswith("microphone=(self)")


def test_the_page_only_answers_get(client: Client) -> None:
    assert client.post("/").status_code == 405


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_served_as_javascript(client: Client, module: str) -> None:
    response = client.get(f"/static/voice/{module}")

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
