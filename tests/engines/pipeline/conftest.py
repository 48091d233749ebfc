"""The openai-pipeline engine on the fake OpenAI, and a signed-in client of /api/voice/ws."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient


@pytest.fixture(autouse=True)
def pipeline(settings: Any, fake_openai: FakeOpenAI) -> FakeOpenAI:
    settings.VOICE_ENGINE = "openai-pipeline"
    settings.OPENAI_MAX_RETRIES = 1
    fake_openai.config.transcript = "what are your opening hours"
    fake_openai.config.reply = "We open at nine. We close at five. Is there anything else?"
    return fake_openai


@pytest.fixture
async def client(alice: User) -> AsyncIterator[JsonVoiceClient]:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive())["type"] == "connected"
    yield client
    await client.close()
