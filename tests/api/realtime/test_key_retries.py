"""How minting a key retries upstream failures: hints, backoff, the time budget."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import SECRETS, FakeTime, mint

pytestmark = pytest.mark.django_db


def test_upstream_429s_are_retried_then_503_with_retry_after(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 429, times=3, headers={"retry-after": "2"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "upstream_unavailable"
    assert len(fake.records.requests_to(SECRETS)) == 3
    assert clock.sleeps == [pytest.approx(2.1), pytest.approx(2.1)]  # the hint, +10% x 0.5


def test_a_retry_after_ms_hint_is_preferred(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 429, headers={"retry-after-ms": "250", "retry-after": "7"})

    assert mint(client, alice).status_code == 200
    assert clock.sleeps == [pytest.approx(0.2625)]


def test_without_a_hint_the_backoff_doubles_with_jitter(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 500, times=2)

    response = mint(client, alice)

    assert response.status_code == 200
    assert clock.sleeps == [pytest.approx(0.375), pytest.approx(0.75)]  # 0.5, 1.0 x (1 - 0.25)
    assert len(fake.records.requests_to(SECRETS)) == 3


def test_a_wait_past_the_time_budget_is_not_taken(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 429, times=3, headers={"retry-after": "30"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert clock.sleeps == []
    assert len(fake.records.requests_to(SECRETS)) == 1


def test_the_time_budget_bounds_all_waits_together(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime, settings: Any
) -> None:
    settings.VOICE_KEY_MINT_TIME_BUDGET = 1.0
    fake.faults.fail("client_secrets", 503, times=3, headers={"retry-after-ms": "600"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert clock.sleeps == [pytest.approx(0.63)]  # a second 0.63 s wait would end at 1.26+
    assert len(fake.records.requests_to(SECRETS)) == 2
    assert sum(clock.sleeps) <= 1.0


def test_connection_errors_are_retried(
    client: Client, alice: User, clock: FakeTime, settings: Any
) -> None:
    with FakeOpenAI() as gone:
        url = gone.base_url
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = url, "sk-test"

    response = mint(client, alice)

    assert response.status_code == 503
    assert len(clock.sleeps) == 2


def test_exhausted_quota_is_not_retried(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 429, times=3, body_code="insufficient_quota")

    response = mint(client, alice)

    assert response.status_code == 503
    assert len(fake.records.requests_to(SECRETS)) == 1


def test_x_should_retry_false_is_obeyed(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.faults.fail("client_secrets", 500, times=3, headers={"x-should-retry": "false"})

    assert mint(client, alice).status_code == 503
    assert len(fake.records.requests_to(SECRETS)) == 1


def test_a_short_retry_after_is_really_waited(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    fake.faults.fail("client_secrets", 429, headers={"retry-after-ms": "300"})

    response = mint(client, alice)

    assert response.status_code == 200
    first, second = fake.records.requests_to(SECRETS)
    assert second.received_at - first.received_at >= 0.3
