"""Neither the server's API key nor a minted key reaches the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.api.realtime.minting import mint

pytestmark = pytest.mark.django_db


def test_neither_key_appears_in_the_logs_even_at_debug(
    client: Client, fake: FakeOpenAI, alice: User, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    for name in ("", "openai", "httpx", "httpcore", "httpx2", "httpcore2", "django", "voice"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake.faults.fail("client_secrets", 429, headers={"retry-after-ms": "1"})

    key = mint(client, alice).json()["ephemeral_key"]
    settings.OPENAI_API_KEY = "sk-wrong-0123456789abcdef"
    mint(client, alice)

    assert "issued ephemeral key" in caplog.text
    assert any(r.name.startswith("openai") and r.levelno == logging.DEBUG for r in caplog.records)
    assert key not in caplog.text
    assert fake.api_key not in caplog.text
    assert "sk-wrong" not in caplog.text and "cdef" not in caplog.text
