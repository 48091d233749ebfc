"""Fixtures of the JSON socket's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient


@pytest.fixture
async def client(alice: User) -> AsyncIterator[JsonVoiceClient]:
    """Alice's socket, connected and told its session id."""
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive())["type"] == "connected"
    yield client
    await client.close()
