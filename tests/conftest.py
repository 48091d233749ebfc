"""The cast and the shared fixtures.

alice is an active user, bob is inactive, sam is staff. Service fixtures skip with a reason
when PostgreSQL or Redis is not configured, and fail instead under VOICE_REQUIRE_SERVICES (CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from devtools.servers import DaphneServer, database_url_for_tests

REQUIRE_SERVICES = os.environ.get("VOICE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (VOICE_REQUIRE_SERVICES=1: service tests must run here)")
    pytest.skip(reason)


@pytest.fixture
def alice(db: Any) -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def bob(db: Any) -> User:
    return User.objects.create_user("bob", "bob@example.com", "bob-password-1", is_active=False)


@pytest.fixture
def sam(db: Any) -> User:
    return User.objects.create_user("sam", "sam@example.com", "sam-password-1", is_staff=True)


def token_for(user: User) -> str:
    return str(AccessToken.for_user(user))


@pytest.fixture
def alice_token(alice: User) -> str:
    return token_for(alice)


@pytest.fixture
def postgres(db: Any) -> None:
    """Marks a test that needs PostgreSQL's behaviour (locks, concurrency)."""
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def redis_url() -> str:
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis: set REDIS_URL=redis://...")
    return settings.REDIS_URL


# An engine that needs nothing until a turn: its upstream is a closed port.
QUIET_ENGINE = {"VOICE_ENGINE": "openai-pipeline", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


@pytest.fixture
def quiet_engine(settings: Any) -> None:
    """For tests that open sessions but never speak to the AI service."""
    for name, value in QUIET_ENGINE.items():
        setattr(settings, name, value)


@pytest.fixture(params=["in-memory", "redis"])
def layer_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a Daphne process on each channel layer in turn (Redis where configured).

    A fault of one layer (Redis' read timeouts, say) cannot hide behind the other.
    """
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {"REDIS_URL": ""}


@pytest.fixture
def daphne_factory(transactional_db: Any) -> Iterator[Any]:
    """Starts real Daphne processes over the test database: ``daphne_factory(ENV=...)``."""
    servers: list[DaphneServer] = []

    def start(**env: str) -> DaphneServer:
        server = DaphneServer(database_url_for_tests(), env)
        server.start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def daphne_server(daphne_factory: Any) -> DaphneServer:
    """A real Daphne process serving the app over the test database."""
    return daphne_factory()


@pytest.fixture
def fake_openai(settings: Any) -> Iterator[Any]:
    """The local fake of OpenAI, with the SDK pointed at it."""
    from devtools.fake_openai.openai_server import FakeOpenAI

    fake = FakeOpenAI()
    fake.start()
    settings.OPENAI_API_KEY = fake.api_key
    settings.OPENAI_BASE_URL = fake.base_url
    try:
        yield fake
    finally:
        fake.stop()
