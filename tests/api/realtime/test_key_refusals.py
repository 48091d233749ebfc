"""POST /api/realtime/session refuses: no or bad JWT, rate limit, server key trouble."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import SECRETS, URL, mint
from voice.models import TokenGrant

pytestmark = pytest.mark.django_db


def test_without_a_jwt_the_answer_is_drfs_401(client: Client, fake: FakeOpenAI) -> None:
    response = mint(client, None)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert fake.records.requests_to(SECRETS) == []


def test_a_bad_jwt_gets_401(client: Client, fake: FakeOpenAI) -> None:
    response = client.post(
        URL, "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer x"
    )

    assert response.status_code == 401


@pytest.mark.usefixtures("clock")
def test_the_eleventh_key_in_a_minute_gets_429_with_retry_after(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    statuses = [mint(client, alice).status_code for _ in range(10)]

    response = mint(client, alice)

    assert statuses == [200] * 10
    assert response.status_code == 429
    assert response["Retry-After"] == "30"  # 29.75 s left in the window, rounded up
    assert response.json()["code"] == "rate_limited"
    assert len(fake.records.requests_to(SECRETS)) == 10


def test_a_rejected_server_key_gives_502_naming_the_cause_without_the_key(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    settings.OPENAI_API_KEY = "sk-wrong-0123456789abcdef"

    response = mint(client, alice)

    assert response.status_code == 502
    assert response.json() == {
        "detail": "the server's OpenAI API key was rejected",
        "code": "server_key_rejected",
    }
    assert "cdef" not in response.content.decode()
    assert len(fake.records.requests_to(SECRETS)) == 1  # never retried
    assert not TokenGrant.objects.exists()


def test_a_forbidden_server_key_gives_502(client: Client, fake: FakeOpenAI, alice: User) -> None:
    fake.faults.fail("client_secrets", 403)

    response = mint(client, alice)

    assert response.status_code == 502
    assert response.json()["code"] == "server_key_rejected"


def test_a_missing_server_key_gives_502_without_calling_upstream(
    client: Client, fake: FakeOpenAI, alice: User, settings: Any
) -> None:
    settings.OPENAI_API_KEY = ""

    response = mint(client, alice)

    assert response.status_code == 502
    assert response.json()["code"] == "server_key_missing"
    assert "OPENAI_API_KEY" in response.json()["detail"]
    assert fake.records.requests == []


def test_an_upstream_refusal_of_the_request_gives_502(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    fake.faults.fail("client_secrets", 400)

    response = mint(client, alice)

    assert response.status_code == 502
    assert response.json()["code"] == "upstream_rejected"
    assert len(fake.records.requests_to(SECRETS)) == 1
