"""POST /api/realtime/session grants a key (PROTOCOL.md section 5): the answer and the record."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import SECRETS, mint
from voice.models import TokenGrant

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_gets_a_key_with_every_contract_field(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    response = mint(client, alice)

    assert response.status_code == 200
    body = response.json()
    assert body["ephemeral_key"].startswith("ek_")
    assert body["client_secret"] == {
        "value": body["ephemeral_key"],
        "expires_at": body["expires_at"],
    }
    assert body["expires_at"] == pytest.approx(time.time() + 60, abs=5)
    assert body["model"] == settings.VOICE_REALTIME_MODEL
    assert body["voice"] == settings.VOICE_DEFAULT_VOICE
    assert body["instructions"] == settings.VOICE_INSTRUCTIONS
    assert body["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
    }
    assert body["rtc_url"] == f"{fake.base_url}/realtime/calls"
    assert response["Cache-Control"] == "no-store"
    uuid.UUID(body["session_id"])


def test_the_grant_records_who_when_and_until_when_but_never_the_key(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    body = mint(client, alice).json()

    grant = TokenGrant.objects.get()
    assert str(grant.session_id) == body["session_id"]
    assert grant.user == alice
    assert grant.client_ip == "127.0.0.1"
    assert (grant.model, grant.voice) == (body["model"], body["voice"])
    assert grant.expires_at == datetime.fromtimestamp(body["expires_at"], UTC)
    stored = json.dumps(list(TokenGrant.objects.values().get().values()), default=str)
    assert body["ephemeral_key"] not in stored


def test_the_key_is_minted_with_the_ga_client_secrets_call(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    mint(client, alice)

    [request] = fake.records.requests_to(SECRETS)
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert "openai-beta" not in request.headers
    assert request.json["expires_after"] == {"anchor": "created_at", "seconds": 60}
    session = request.json["session"]
    assert session["type"] == "realtime"
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
    }
    assert session["audio"]["input"]["transcription"] == {"model": settings.VOICE_TRANSCRIBE_MODEL}
    assert session["audio"]["output"] == {"voice": settings.VOICE_DEFAULT_VOICE}
    assert [(t["type"], t["name"]) for t in session["tools"]] == [
        ("function", "search_site"),
        ("function", "navigate_to_page"),
        ("function", "get_site_info"),
    ]
    assert session["tools"][1]["parameters"]["required"] == ["page"]


def test_the_client_may_choose_voice_instructions_and_model(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    settings.VOICE_ALLOW_CLIENT_INSTRUCTIONS = True  # off by default (PROTOCOL.md section 5)
    choice = {"voice": "marin", "instructions": "Talk like a pirate.", "model": "gpt-realtime-mini"}

    body = mint(client, alice, choice).json()

    assert {k: body[k] for k in choice} == choice
    session = fake.records.requests_to(SECRETS)[0].json["session"]
    assert session["model"] == "gpt-realtime-mini"
    assert session["instructions"] == "Talk like a pirate."
    assert session["audio"]["output"]["voice"] == "marin"


@pytest.mark.parametrize(
    "body",
    [
        {"voice": "robot"},
        {"model": "gpt-4o"},
        {"instructions": "x" * 4001},
        {"instructions": 42 * [1]},
        ["not", "an", "object"],
    ],
)
def test_invalid_choices_get_400_and_no_key(
    client: Client, fake: FakeOpenAI, alice: User, body: Any
) -> None:
    response = mint(client, alice, body)

    assert response.status_code == 400
    assert fake.records.requests_to(SECRETS) == []
