"""Revocation across processes: a user's change in one process ends their session on a real
Daphne process within 5 s with 4401, over the Redis channel layer (PROTOCOL.md section 1)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.accounts.test_revocation import WITHIN, change_password
from tests.conftest import QUIET_ENGINE, token_for
from voice.models import VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)


async def seconds_to_close(ws: ClientConnection, started: float) -> tuple[int, float]:
    """The close code and how long after ``started`` it came."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), WITHIN)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, time.monotonic() - started


async def test_a_password_change_ends_a_session_on_another_process(
    daphne_factory: Any, redis_url: str, alice: User
) -> None:
    # No heartbeat within the test: the signal and the channel layer alone must do it.
    server = daphne_factory(REDIS_URL=redis_url, VOICE_HEARTBEAT_SECONDS="600", **QUIET_ENGINE)
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    async with connect(f"{server.ws_url}/api/voice/ws", additional_headers=headers) as ws:
        session_id = json.loads(await ws.recv())["sessionId"]
        started = time.monotonic()

        await sync_to_async(change_password)(alice)

        code, elapsed = await seconds_to_close(ws, started)

    assert code == 4401 and elapsed < WITHIN
    print(f"revoked by signal in {elapsed * 1000:.0f} ms")
    for _ in range(250):  # the server records the end just after closing: wait for it, bounded
        row = await VoiceSession.objects.aget(pk=session_id)
        if row.ended_at is not None:
            break
        await asyncio.sleep(0.02)
    assert row.end_reason == "revoked"


async def test_a_deactivation_bypassing_signals_ends_it_at_the_heartbeat(
    daphne_factory: Any, redis_url: str, alice: User
) -> None:
    server = daphne_factory(REDIS_URL=redis_url, VOICE_HEARTBEAT_SECONDS="0.5", **QUIET_ENGINE)
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    async with connect(f"{server.ws_url}/voice-ws", additional_headers=headers) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        started = time.monotonic()

        await User.objects.filter(pk=alice.pk).aupdate(is_active=False)

        code, elapsed = await seconds_to_close(ws, started)

    assert code == 4401 and elapsed < WITHIN
    print(f"revoked by heartbeat in {elapsed * 1000:.0f} ms")
