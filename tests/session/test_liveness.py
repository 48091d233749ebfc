"""Sessions left open by a dead process are found by their heartbeat and closed."""

from __future__ import annotations

import asyncio
import io
import json
import signal
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from websockets.asyncio.client import connect

from tests.conftest import QUIET_ENGINE, token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import Turn, VoiceSession
from voice.services.sessions import PROCESS_ID, end_session_by_staff, reap_stale_sessions
from voice.session.live import request_end

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]


def open_row(heartbeat_age: float) -> VoiceSession:
    session = VoiceSession.objects.create(
        transport="json",
        engine="local",
        owner="gone-host:1:dead",
        heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
    )
    Turn.objects.create(session=session, index=0, started_at=timezone.now())
    return session


def test_the_reaper_closes_silent_sessions_and_their_open_turns(settings: Any) -> None:
    settings.VOICE_SESSION_STALE_SECONDS = 30
    stale, fresh = open_row(heartbeat_age=60), open_row(heartbeat_age=5)

    closed = reap_stale_sessions()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert closed == 1
    assert stale.ended_at is not None and stale.end_reason == "owner_lost"
    assert stale.turns.get().end_reason == "disconnected"
    assert fresh.ended_at is None


def test_the_reap_command_reports_what_it_closed(settings: Any) -> None:
    settings.VOICE_SESSION_STALE_SECONDS = 30
    open_row(heartbeat_age=60)
    out = io.StringIO()

    call_command("reap_sessions", stdout=out)

    assert "closed 1 stale session(s)" in out.getvalue()


async def test_a_live_session_names_its_process_and_keeps_beating(
    alice: User, settings: Any
) -> None:
    settings.VOICE_HEARTBEAT_SECONDS = 0.05
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    session_id = (await client.receive())["sessionId"]
    first = await VoiceSession.objects.aget(pk=session_id)

    for _ in range(100):  # wait (bounded) for the next beat to land
        later = await VoiceSession.objects.aget(pk=session_id)
        if later.heartbeat_at > first.heartbeat_at:
            break
        await asyncio.sleep(0.02)

    assert first.owner == PROCESS_ID
    assert later.heartbeat_at > first.heartbeat_at
    await client.close()


async def test_a_killed_server_leaves_rows_the_reaper_closes(
    daphne_factory: Any, layer_env: dict[str, str], alice: User, settings: Any
) -> None:
    server = daphne_factory(**layer_env, **QUIET_ENGINE)
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    async with connect(f"{server.ws_url}/api/voice/ws", additional_headers=headers) as ws:
        session_id = json.loads(await ws.recv())["sessionId"]
        server.process.send_signal(signal.SIGKILL)  # no disconnect() runs
        server.process.wait()

    row = await VoiceSession.objects.aget(pk=session_id)
    assert row.ended_at is None and row.owner != PROCESS_ID
    later = timezone.now() + timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS + 1)
    assert await sync_to_async(reap_stale_sessions)(later) == 1
    row = await VoiceSession.objects.aget(pk=session_id)
    assert row.end_reason == "owner_lost"


async def test_staff_can_end_a_session_from_anywhere_and_it_closes_1000(
    alice: User, sam: User
) -> None:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    session_id = (await client.receive())["sessionId"]

    await sync_to_async(end_session_by_staff)(session_id, sam.pk, "abuse")
    await sync_to_async(request_end)(session_id, "abuse")

    assert await client.closed_with() == 1000
    row = await VoiceSession.objects.aget(pk=session_id)
    assert row.end_reason == "abuse" and row.ended_by_id == sam.pk
