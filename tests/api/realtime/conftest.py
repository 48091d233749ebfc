"""The fake upstream, a closed key-mint circuit and frozen time for the key-mint tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import FakeTime, FixedRandom
from voice.upstream.keys import key_mint_breaker


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
