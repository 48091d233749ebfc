"""Ending a live session from the console (HTTP) and the admin action: closed 1000, recorded."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import VoiceSession

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

JSON = {"HTTP_ACCEPT": "application/json"}


def staff_client(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


async def live_voice(user: User) -> tuple[JsonVoiceClient, str]:
    voice = JsonVoiceClient(token=token_for(user))
    await voice.connect()
    return voice, (await voice.receive())["sessionId"]


def post(client: Client, path: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(path, data or {}, **extra)


@database_sync_to_async
def row_of(session_id: str) -> VoiceSession:
    return VoiceSession.objects.get(pk=session_id)


async def test_ending_from_the_console_closes_the_socket_1000(alice: User, sam: User) -> None:
    voice, session_id = await live_voice(alice)
    client = await database_sync_to_async(staff_client)(sam)

    response = await database_sync_to_async(post)(
        client, f"/console/sessions/{session_id}/end/", {"reason": "abusive caller"}, **JSON
    )

    assert response.status_code == 200
    assert response.json() == {"ended": True, "reason": "abusive caller"}
    assert await voice.closed_with() == 1000
    row = await row_of(session_id)
    assert row.ended_by_id == sam.pk and row.end_reason == "abusive caller"
    assert row.ended_at is not None


async def test_without_a_reason_the_default_is_recorded(alice: User, sam: User) -> None:
    voice, session_id = await live_voice(alice)
    client = await database_sync_to_async(staff_client)(sam)

    response = await database_sync_to_async(post)(client, f"/console/sessions/{session_id}/end/")

    assert response.status_code == 302 and response["Location"] == "/console/"
    assert await voice.closed_with() == 1000
    row = await row_of(session_id)
    assert row.end_reason == "ended_by_staff" and row.ended_by_id == sam.pk


async def test_an_ended_session_cannot_be_ended_again(alice: User, sam: User) -> None:
    voice, session_id = await live_voice(alice)
    client = await database_sync_to_async(staff_client)(sam)
    path = f"/console/sessions/{session_id}/end/"
    await database_sync_to_async(post)(client, path, {"reason": "first"}, **JSON)
    assert await voice.closed_with() == 1000

    again = await database_sync_to_async(post)(client, path, {"reason": "second"}, **JSON)

    assert again.status_code == 409 and again.json()["ended"] is False
    assert (await row_of(session_id)).end_reason == "first"


async def test_users_who_are_not_staff_cannot_end_sessions(alice: User) -> None:
    voice, session_id = await live_voice(alice)
    client = await database_sync_to_async(staff_client)(alice)

    path = f"/console/sessions/{session_id}/end/"
    response = await database_sync_to_async(post)(client, path, **JSON)

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert (await row_of(session_id)).ended_at is None
    assert await voice.ws.receive_nothing(0.3)
    await voice.close()


def test_ending_needs_the_csrf_token(alice: User, sam: User) -> None:
    session = VoiceSession.objects.create(user=alice, transport="json", engine="local")
    client = staff_client(sam, enforce_csrf_checks=True)

    refused = client.post(f"/console/sessions/{session.pk}/end/")
    client.get("/console/")  # sets the CSRF cookie, as the page does for its script
    token = client.cookies["csrftoken"].value
    allowed = client.post(f"/console/sessions/{session.pk}/end/", HTTP_X_CSRFTOKEN=token, **JSON)

    assert refused.status_code == 403
    assert allowed.status_code == 200


def test_ending_is_a_post(alice: User, sam: User) -> None:
    session = VoiceSession.objects.create(user=alice, transport="json", engine="local")

    response = staff_client(sam).get(f"/console/sessions/{session.pk}/end/")

    assert response.status_code == 405


async def test_the_admin_action_ends_the_selected_live_sessions(alice: User, sam: User) -> None:
    voice, session_id = await live_voice(alice)
    sam.is_superuser = True
    await database_sync_to_async(sam.save)()
    client = await database_sync_to_async(staff_client)(sam)

    response = await database_sync_to_async(post)(
        client,
        "/admin/voice/voicesession/",
        {"action": "end_live_sessions", "_selected_action": [session_id]},
    )

    assert response.status_code == 302
    assert await voice.closed_with() == 1000
    row = await row_of(session_id)
    assert row.end_reason == "ended_by_staff" and row.ended_by_id == sam.pk
