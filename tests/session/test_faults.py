"""A fault anywhere in a session's handling ends it as an internal error: 4500, row ended.

The fault used on the sockets is a channel-layer message this process has no handler for, as a
peer process of another version could send during a rolling upgrade.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.contrib.auth.models import User
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import QUIET_ENGINE, token_for
from tests.session.scripted import ScriptedEngine
from tests.transports.json_socket.client import JsonVoiceClient
from tests.transports.stream_socket.client import StreamVoiceClient
from voice.engines import base as eng
from voice.models import VoiceSession as SessionRow
from voice.session import events as ev
from voice.session.live import session_group
from voice.session.service import SessionService

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

UNHANDLED = {"type": "voice.added_in_a_later_release"}


@database_sync_to_async
def row_of(session_id: str) -> SessionRow:
    return SessionRow.objects.get(pk=session_id)


async def ended_row(session_id: str) -> SessionRow:
    """The session's row once it is recorded as ended (the close reaches the client first)."""
    for _ in range(100):
        row = await row_of(session_id)
        if row.ended_at is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"session {session_id} is still live")


async def test_a_fault_in_a_json_connection_closes_4500_and_ends_its_row(alice: User) -> None:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    session_id = (await client.receive())["sessionId"]

    await get_channel_layer().group_send(session_group(session_id), UNHANDLED)

    assert await client.closed_with() == 4500
    assert (await ended_row(session_id)).end_reason == "internal_error"


async def test_a_fault_in_a_stream_connection_closes_4500_and_ends_its_row(alice: User) -> None:
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()
    ready = await client.receive()
    assert isinstance(ready, dict)
    session_id = ready["metadata"]["sessionId"]

    await get_channel_layer().group_send(session_group(session_id), UNHANDLED)

    with pytest.raises(ConnectionError, match="closed with 4500"):
        while True:
            await client.receive()
    assert (await ended_row(session_id)).end_reason == "internal_error"


async def test_over_daphne_on_redis_a_fault_closes_4500_on_both_sockets(
    daphne_factory: Any, redis_url: str, alice: User
) -> None:
    server = daphne_factory(REDIS_URL=redis_url, **QUIET_ENGINE)
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    layer = RedisChannelLayer(hosts=[redis_url])
    for path in ("/api/voice/ws", "/voice-ws"):
        async with connect(f"{server.ws_url}{path}", additional_headers=headers) as ws:
            hello = json.loads(await ws.recv())
            session_id = hello.get("sessionId") or hello["metadata"]["sessionId"]
            await layer.group_send(session_group(session_id), UNHANDLED)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4500
        assert (await ended_row(session_id)).end_reason == "internal_error"


async def test_a_transport_that_fails_on_an_event_ends_the_session_as_internal(
    alice: User,
) -> None:
    delivered: list[ev.SessionEvent] = []
    ended = asyncio.Event()

    async def sink(event: ev.SessionEvent) -> None:
        delivered.append(event)
        if isinstance(event, ev.ResponseText):
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        if isinstance(event, ev.SessionEnded):
            ended.set()

    engine = ScriptedEngine()
    assert isinstance(engine, eng.Engine)
    engine.emit(eng.ResponseStarted("r1"), eng.TextDelta("r1", "Hello"))
    session = SessionService(
        engine=engine,
        sink=sink,
        transport="json",
        user_id=alice.pk,
        client_ip="127.0.0.1",
        session_id=uuid.uuid4(),
    )
    await session.open()
    await asyncio.wait_for(ended.wait(), 5)
    await session.close("internal_error")

    assert delivered[-1] == ev.SessionEnded(ev.Ending.INTERNAL, "internal_error")
    row = await row_of(str(session.id))
    assert row.end_reason == "internal_error"
