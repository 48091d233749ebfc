"""Admission at the handshake (PROTOCOL.md section 7): every handshake counts toward new
connections per IP, and only so many sockets of one IP may wait for ``auth`` at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.conftest import token_for
from tests.services.conftest import T0, FakeTime
from tests.transports.json_socket.client import JsonVoiceClient
from tests.transports.stream_socket.client import StreamVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]


@pytest.fixture(autouse=True)
def fresh_places() -> Iterator[None]:
    """Auth-wait places live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def one_minute() -> Iterator[None]:
    """The ledger's wall clock stands still, so a test's handshakes share one window."""
    with patch("voice.services.ratelimit.time", FakeTime(T0)):
        yield


async def waiting(client: JsonVoiceClient) -> JsonVoiceClient:
    accepted, _ = await client.connect()
    assert accepted
    assert await client.ws.receive_nothing(0.05)  # admitted: nothing until it authenticates
    return client


async def signs_in(client: JsonVoiceClient, user: User) -> None:
    await client.send({"type": "auth", "token": token_for(user)})
    assert (await client.receive())["type"] == "connected"


@pytest.mark.usefixtures("one_minute")
async def test_unauthenticated_handshakes_count_toward_new_connections(
    alice: User, settings: Any
) -> None:
    settings.VOICE_CONNECTIONS_PER_MINUTE_PER_IP = 3
    bad_token = JsonVoiceClient(token="not-a-token")
    await bad_token.connect()
    assert await bad_token.closed_with() == 4401
    no_auth = await waiting(JsonVoiceClient())
    await no_auth.close()
    stream = StreamVoiceClient()
    assert not (await stream.connect())[0]

    late = JsonVoiceClient(token=token_for(alice))
    await late.connect()

    assert await late.closed_with() == 4429


async def test_at_most_so_many_sockets_of_an_ip_wait_for_auth(alice: User, settings: Any) -> None:
    settings.VOICE_MAX_AUTH_WAITING_PER_IP = 2
    settings.VOICE_AUTH_TIMEOUT = 30
    first, second = await waiting(JsonVoiceClient()), await waiting(JsonVoiceClient())

    third = JsonVoiceClient()
    await third.connect()

    assert await third.closed_with() == 4429
    await signs_in(first, alice)  # its place is free again
    fourth = await waiting(JsonVoiceClient())
    await second.close()  # and so is this one's
    fifth = await waiting(JsonVoiceClient())
    await signs_in(fifth, alice)
    for client in (first, fourth, fifth):
        await client.close()


async def test_an_auth_timeout_gives_the_place_back(alice: User, settings: Any) -> None:
    settings.VOICE_MAX_AUTH_WAITING_PER_IP = 1
    settings.VOICE_AUTH_TIMEOUT = 0.2
    first = await waiting(JsonVoiceClient())

    assert await first.closed_with() == 4401
    second = await waiting(JsonVoiceClient())
    await signs_in(second, alice)
    await second.close()


async def test_a_token_at_the_handshake_waits_for_nothing(alice: User, settings: Any) -> None:
    settings.VOICE_MAX_AUTH_WAITING_PER_IP = 1
    holder = await waiting(JsonVoiceClient())

    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()

    assert (await client.receive())["type"] == "connected"
    await client.close()
    await holder.close()
