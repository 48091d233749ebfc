"""``/console/ws`` in one process: who may watch, and the rows it pushes as sessions change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import VoiceSession
from voice.session.live import announce
from voiceproject.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

TIMEOUT = 10


@database_sync_to_async
def make_row(**fields: Any) -> VoiceSession:
    return VoiceSession.objects.create(**{"transport": "json", "engine": "local", **fields})


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def console_as(user: User | None) -> WebsocketCommunicator:
    headers = [(b"cookie", await database_sync_to_async(session_cookie)(user))] if user else []
    return WebsocketCommunicator(application, "/console/ws", headers=headers)


async def watch(user: User) -> WebsocketCommunicator:
    """A connected staff console, its snapshot already read."""
    console = await console_as(user)
    connected, _ = await console.connect(timeout=TIMEOUT)
    assert connected
    assert (await console.receive_json_from(TIMEOUT))["type"] == "snapshot"
    return console


async def next_matching(
    console: WebsocketCommunicator, test: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first message that passes ``test``; earlier ones (other changes) are skipped."""
    while True:
        message = await console.receive_json_from(TIMEOUT)
        if test(message):
            return message


def about(session_id: str, kind: str) -> Callable[[dict[str, Any]], bool]:
    def test(message: dict[str, Any]) -> bool:
        found = message.get("row", {}).get("id") or message.get("id")
        return message["type"] == kind and found == session_id

    return test


async def test_staff_get_a_snapshot_of_the_live_sessions(sam: User, alice: User) -> None:
    live = await make_row(user=alice)
    await make_row(transport="binary", ended_at=timezone.now())
    console = await console_as(sam)

    connected, _ = await console.connect(timeout=TIMEOUT)
    snapshot = await console.receive_json_from(TIMEOUT)

    assert connected and snapshot["type"] == "snapshot"
    assert [row["id"] for row in snapshot["rows"]] == [str(live.pk)]
    row = snapshot["rows"][0]
    assert row["user"] == "alice" and row["transport"] == "json" and row["turns"] == 0
    assert row["state"] == "idle" and row["lastLatencyMs"] is None
    assert row["detailUrl"] == f"/console/sessions/{live.pk}/"
    await console.disconnect()


async def test_a_session_appears_and_disappears_as_it_opens_and_closes(
    sam: User, alice: User
) -> None:
    console = await watch(sam)
    voice = JsonVoiceClient(token=token_for(alice))

    await voice.connect()
    session_id = (await voice.receive())["sessionId"]
    opened = await next_matching(console, about(session_id, "row"))
    await voice.close()
    removed = await next_matching(console, about(session_id, "removed"))

    assert opened["row"]["user"] == "alice" and opened["change"] == "opened"
    assert removed == {"type": "removed", "id": session_id}
    await console.disconnect()


async def test_a_turn_updates_the_row(sam: User, alice: User, fake_openai: Any) -> None:
    fake_openai.config.reply = "Sure."
    console = await watch(sam)
    voice = JsonVoiceClient(token=token_for(alice))
    await voice.connect()
    session_id = (await voice.receive())["sessionId"]

    await voice.send({"type": "text", "text": "hello"})
    started = await next_matching(
        console, lambda m: about(session_id, "row")(m) and m["change"] == "turn_started"
    )
    await voice.receive_until("audio_complete")
    finished = await next_matching(
        console, lambda m: about(session_id, "row")(m) and m["change"] == "turn_finished"
    )

    assert started["row"]["turns"] == 1 and started["row"]["state"] == "in turn"
    assert finished["row"]["state"] == "idle"
    assert isinstance(finished["row"]["lastLatencyMs"], int)
    await voice.close()
    await console.disconnect()


async def test_an_announced_change_pushes_the_row_once(sam: User, alice: User) -> None:
    console = await watch(sam)
    row = await make_row(user=alice, transport="binary")

    await database_sync_to_async(announce)(row.pk, "opened")
    message = await console.receive_json_from(TIMEOUT)

    assert message["type"] == "row" and message["row"]["transport"] == "binary"
    assert await console.receive_nothing(0.2)
    await console.disconnect()


async def test_a_ping_is_answered(sam: User) -> None:
    console = await watch(sam)

    await console.send_json_to({"type": "ping"})

    assert await console.receive_json_from(TIMEOUT) == {"type": "pong"}
    await console.disconnect()


async def test_users_who_are_not_staff_are_closed_4403(alice: User) -> None:
    console = await console_as(alice)

    connected, _ = await console.connect(timeout=TIMEOUT)
    output = await console.receive_output(TIMEOUT)

    assert connected
    assert output["type"] == "websocket.close" and output["code"] == 4403


async def test_anonymous_viewers_are_refused_at_the_handshake(db: None) -> None:
    console = await console_as(None)

    connected, _ = await console.connect(timeout=TIMEOUT)

    assert not connected


async def test_a_staff_jwt_also_opens_the_console(sam: User) -> None:
    console = WebsocketCommunicator(
        application,
        "/console/ws",
        headers=[(b"authorization", f"Bearer {token_for(sam)}".encode())],
    )

    connected, _ = await console.connect(timeout=TIMEOUT)

    assert connected
    assert (await console.receive_json_from(TIMEOUT))["type"] == "snapshot"
    await console.disconnect()


async def test_a_foreign_origin_is_refused(sam: User) -> None:
    headers = [
        (b"cookie", await database_sync_to_async(session_cookie)(sam)),
        (b"origin", b"https://evil.example.com"),
    ]
    console = WebsocketCommunicator(application, "/console/ws", headers=headers)

    connected, _ = await console.connect(timeout=TIMEOUT)

    assert not connected
