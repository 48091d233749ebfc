"""POST /api/realtime/session against the fake OpenAI server (PROTOCOL.md section 5)."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.http import HttpResponse
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from devtools.servers import DaphneServer, database_url_for_tests
from tests.conftest import token_for
from voice.models import TokenGrant
from voice.upstream.keys import key_mint_breaker

pytestmark = pytest.mark.django_db

URL = "/api/realtime/session"
SECRETS = "realtime/client_secrets"
# 30.25 s into a UTC minute, so a test's mints never straddle a rate-limit window.
T0 = 1_800_000_030.25


class FakeTime:
    """Stands in for ``time`` in the retry, circuit and rate-limit modules; sleeping is instant."""

    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.fixture
def fake(settings: Any) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        settings.OPENAI_BASE_URL = server.base_url
        settings.OPENAI_API_KEY = server.api_key
        yield server


@pytest.fixture(autouse=True)
def closed_circuit() -> Iterator[None]:
    key_mint_breaker().reset()
    yield
    key_mint_breaker().reset()


@pytest.fixture
def clock() -> Iterator[FakeTime]:
    """Frozen time for every module that waits or counts; random() is fixed at 0.5."""
    fake_time = FakeTime()
    with (
        patch("voice.upstream.backoff.time", fake_time),
        patch("voice.upstream.backoff.random", FixedRandom(0.5)),
        patch("voice.upstream.circuit.time", fake_time),
        patch("voice.services.ratelimit.time", fake_time),
    ):
        yield fake_time


def mint(client: Client, user: User | None, body: Any = None) -> HttpResponse:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"} if user else {}
    data = json.dumps(body if body is not None else {})
    return client.post(URL, data, content_type="application/json", **headers)


# ---- success ---------------------------------------------------------------------------------


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

    [request] = fake.requests_to(SECRETS)
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
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    choice = {"voice": "marin", "instructions": "Talk like a pirate.", "model": "gpt-realtime-mini"}

    body = mint(client, alice, choice).json()

    assert {k: body[k] for k in choice} == choice
    session = fake.requests_to(SECRETS)[0].json["session"]
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
    assert fake.requests_to(SECRETS) == []


# ---- refusals --------------------------------------------------------------------------------


def test_without_a_jwt_the_answer_is_drfs_401(client: Client, fake: FakeOpenAI) -> None:
    response = mint(client, None)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert fake.requests_to(SECRETS) == []


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
    assert len(fake.requests_to(SECRETS)) == 10


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
    assert len(fake.requests_to(SECRETS)) == 1  # never retried
    assert not TokenGrant.objects.exists()


def test_a_forbidden_server_key_gives_502(client: Client, fake: FakeOpenAI, alice: User) -> None:
    fake.fail("client_secrets", 403)

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
    assert fake.requests == []


def test_an_upstream_refusal_of_the_request_gives_502(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    fake.fail("client_secrets", 400)

    response = mint(client, alice)

    assert response.status_code == 502
    assert response.json()["code"] == "upstream_rejected"
    assert len(fake.requests_to(SECRETS)) == 1


# ---- retries ---------------------------------------------------------------------------------


def test_upstream_429s_are_retried_then_503_with_retry_after(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 429, times=3, headers={"retry-after": "2"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "upstream_unavailable"
    assert len(fake.requests_to(SECRETS)) == 3
    assert clock.sleeps == [pytest.approx(2.1), pytest.approx(2.1)]  # the hint, +10% x 0.5


def test_a_retry_after_ms_hint_is_preferred(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 429, headers={"retry-after-ms": "250", "retry-after": "7"})

    assert mint(client, alice).status_code == 200
    assert clock.sleeps == [pytest.approx(0.2625)]


def test_without_a_hint_the_backoff_doubles_with_jitter(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 500, times=2)

    response = mint(client, alice)

    assert response.status_code == 200
    assert clock.sleeps == [pytest.approx(0.375), pytest.approx(0.75)]  # 0.5, 1.0 x (1 - 0.25)
    assert len(fake.requests_to(SECRETS)) == 3


def test_a_wait_past_the_time_budget_is_not_taken(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 429, times=3, headers={"retry-after": "30"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert clock.sleeps == []
    assert len(fake.requests_to(SECRETS)) == 1


def test_the_time_budget_bounds_all_waits_together(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime, settings: Any
) -> None:
    settings.VOICE_KEY_MINT_TIME_BUDGET = 1.0
    fake.fail("client_secrets", 503, times=3, headers={"retry-after-ms": "600"})

    response = mint(client, alice)

    assert response.status_code == 503
    assert clock.sleeps == [pytest.approx(0.63)]  # a second 0.63 s wait would end at 1.26+
    assert len(fake.requests_to(SECRETS)) == 2
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
    fake.fail("client_secrets", 429, times=3, body_code="insufficient_quota")

    response = mint(client, alice)

    assert response.status_code == 503
    assert len(fake.requests_to(SECRETS)) == 1


def test_x_should_retry_false_is_obeyed(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 500, times=3, headers={"x-should-retry": "false"})

    assert mint(client, alice).status_code == 503
    assert len(fake.requests_to(SECRETS)) == 1


def test_a_short_retry_after_is_really_waited(
    client: Client, fake: FakeOpenAI, alice: User
) -> None:
    fake.fail("client_secrets", 429, headers={"retry-after-ms": "300"})

    response = mint(client, alice)

    assert response.status_code == 200
    first, second = fake.requests_to(SECRETS)
    assert second.received_at - first.received_at >= 0.3


# ---- circuit breaker -------------------------------------------------------------------------


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
    fake.fail("client_secrets", 500, times=2)
    mint(client, alice)
    mint(client, alice)
    clock.now += 10

    response = mint(client, alice)

    assert response.status_code == 503
    assert response["Retry-After"] == "20"
    assert len(fake.requests_to(SECRETS)) == 2  # the third never went upstream


@pytest.mark.usefixtures("fragile")
def test_after_the_cool_down_a_successful_probe_closes_the_circuit(
    client: Client, fake: FakeOpenAI, alice: User, clock: FakeTime
) -> None:
    fake.fail("client_secrets", 500, times=2)
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


# ---- secrets stay out of logs ----------------------------------------------------------------


def test_neither_key_appears_in_the_logs_even_at_debug(
    client: Client, fake: FakeOpenAI, alice: User, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    for name in ("", "openai", "httpx", "httpcore", "httpx2", "httpcore2", "django", "voice"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake.fail("client_secrets", 429, headers={"retry-after-ms": "1"})

    key = mint(client, alice).json()["ephemeral_key"]
    settings.OPENAI_API_KEY = "sk-wrong-0123456789abcdef"
    mint(client, alice)

    assert "issued ephemeral key" in caplog.text
    assert any(r.name.startswith("openai") and r.levelno == logging.DEBUG for r in caplog.records)
    assert key not in caplog.text
    assert fake.api_key not in caplog.text
    assert "sk-wrong" not in caplog.text and "cdef" not in caplog.text


# ---- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres", "clock")
def test_fifty_concurrent_mints_give_exactly_ten_keys(fake: FakeOpenAI, alice: User) -> None:
    barrier = threading.Barrier(50)

    def one() -> int:
        try:
            barrier.wait()
            return mint(Client(), alice).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda _: one(), range(50)))

    assert Counter(statuses) == {200: 10, 429: 40}
    assert TokenGrant.objects.count() == 10
    assert len(fake.requests_to(SECRETS)) == 10


def post_to(server: DaphneServer, token: str) -> int:
    request = urllib.request.Request(
        server.http_url + URL,
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres")
def test_the_limit_holds_across_two_server_processes(fake: FakeOpenAI, alice: User) -> None:
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": fake.api_key}
    servers = [DaphneServer(database_url_for_tests(), env=env) for _ in range(2)]
    token = token_for(alice)
    try:
        for server in servers:
            server.start()
        # Not synchronisation: a fixed window that ended mid-test would rightly allow 20 keys.
        left = 60 - time.time() % 60
        if left < 10:
            time.sleep(left + 0.1)
        barrier = threading.Barrier(50)

        def one(index: int) -> int:
            barrier.wait()
            return post_to(servers[index % 2], token)

        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(one, range(50)))
    finally:
        for server in servers:
            server.stop()

    assert Counter(statuses) == {200: 10, 429: 40}
    assert TokenGrant.objects.count() == 10
