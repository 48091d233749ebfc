"""The circuit breaker in front of key minting."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import SECRETS, FakeTime, mint
from voice.upstream.keys import key_mint_breaker

pytestmark = pytest.mark.django_db


@pytest.fixture
def fragile(settings: Any) -> None:
    """One attempt per key and a circuit that opens after two failures."""
    settings.VOICE_KEY_MINT_ATTEMPTS = 1
    settings.VOICE_CIRCUIT_FAILURES = 2
    settings.VOICE_CIRCUIT_COOLDOWN_SECONDS = 30.0


@pytest.mark.usefixtures("fragile")
def test_an_open_circuit_fails_fast_with_503(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 500, times=2)
    mint(client, alice)
    mint(client, alice)
    clock.now += 10

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "20"
    assert len(fake.records.requests_to(SECRETS)) == 2  # the third never went upstream


@pytest.mark.usefixtures("fragile")
def test_after_the_cool_down_a_successful_probe_closes_the_circuit(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 500, times=2)
    mint(client, alice)
    mint(client, alice)
    clock.now += 30

    assert mint(client, alice).status_code == 200
    assert key_mint_breaker().state() == "closed"
    assert mint(client, alice).status_code == 200


@pytest.mark.usefixtures("fragile")
def test_a_rejected_key_does_not_open_the_circuit(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    settings.OPENAI_API_KEY = "sk-wrong"
    for _ in range(3):
        assert mint(client, alice).status_code == 502

    assert key_mint_breaker().state() == "closed"
