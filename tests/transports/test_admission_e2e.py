"""Sockets waiting for ``auth`` are capped per IP across server processes, through the shared
cache, and a process that dies holding places leaks them only until they expire."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import QUIET_ENGINE, token_for

pytestmark = pytest.mark.django_db(transaction=True)

AUTH_TIMEOUT = 3  # seconds; a place expires a little after it


@pytest.fixture(autouse=True)
def fresh_places(redis_url: str) -> Iterator[None]:
    cache.clear()  # the places live in Redis, which outlives a test
    yield
    cache.clear()


async def refused(url: str) -> int | None:
    """The close code if the socket is refused at once, else None (it waits for auth)."""
    async with connect(url) as ws:
        try:
            await asyncio.wait_for(ws.recv(), 1.0)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            return None
    return None


async def signs_in(ws: ClientConnection, user: User) -> bool:
    try:
        await ws.send(json.dumps({"type": "auth", "token": token_for(user)}))
        return json.loads(await ws.recv())["type"] == "connected"
    except ConnectionClosed:
        return False


async def test_the_cap_holds_across_processes_and_survives_a_dead_one(
    daphne_factory: Any, redis_url: str, alice: User
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "VOICE_MAX_AUTH_WAITING_PER_IP": "2",
        "VOICE_AUTH_TIMEOUT": str(AUTH_TIMEOUT),
        **QUIET_ENGINE,
    }
    first, second = daphne_factory(**env), daphne_factory(**env)
    # Each handshake completes only once its place is held.
    holders = [await connect(f"{first.ws_url}/api/voice/ws") for _ in range(2)]

    assert await refused(f"{second.ws_url}/api/voice/ws") == 4429

    first.process.send_signal(signal.SIGKILL)  # its places are never given back
    first.process.wait()
    killed = time.monotonic()
    deadline = killed + AUTH_TIMEOUT + 10
    admitted = False
    while not admitted and time.monotonic() < deadline:
        async with connect(f"{second.ws_url}/api/voice/ws") as ws:
            admitted = await signs_in(ws, alice)
        if not admitted:
            await asyncio.sleep(0.2)  # polling for the expiry, bounded by the deadline
    print(f"places of the dead process free after {time.monotonic() - killed:.1f} s")
    assert admitted
    for ws in holders:
        ws.transport.abort()
