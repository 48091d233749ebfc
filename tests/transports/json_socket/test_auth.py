"""/api/voice/ws: the four token sources, late auth, the sessionId rule (PROTOCOL.md 1 and 2)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def short_auth_timeout(quiet_engine: None, settings: Any) -> None:
    # No test here speaks to the AI service: the engine is built but never called.
    settings.VOICE_AUTH_TIMEOUT = 0.3


async def connected(client: JsonVoiceClient) -> dict:
    accepted, _ = await client.connect()
    assert accepted
    message = await client.receive()
    assert message["type"] == "connected"
    return message


async def test_a_header_token_connects_and_gets_a_session_id(alice: User) -> None:
    client = JsonVoiceClient(token=token_for(alice))

    message = await connected(client)

    assert uuid.UUID(message["sessionId"])
    await client.close()


async def test_the_bearer_subprotocol_is_selected(alice: User) -> None:
    client = JsonVoiceClient(subprotocols=["bearer", token_for(alice)])

    accepted, subprotocol = await client.connect()

    assert accepted
    assert subprotocol == "bearer"
    assert (await client.receive())["type"] == "connected"
    await client.close()


async def test_a_query_token_connects(alice: User) -> None:
    client = JsonVoiceClient(path=f"/api/voice/ws?token={token_for(alice)}")

    await connected(client)
    await client.close()


async def test_a_bad_handshake_token_closes_4401(db: None) -> None:
    client = JsonVoiceClient(token="not-a-token")

    await client.connect()

    assert await client.closed_with() == 4401


async def test_a_refresh_token_at_the_handshake_closes_4401(alice: User) -> None:
    refresh = await sync_to_async(lambda: str(RefreshToken.for_user(alice)))()
    client = JsonVoiceClient(token=refresh)

    await client.connect()

    assert await client.closed_with() == 4401


async def test_late_auth_connects_after_the_auth_message(alice: User) -> None:
    client = JsonVoiceClient()
    accepted, _ = await client.connect()

    await client.send({"type": "auth", "token": token_for(alice), "userId": alice.pk})
    message = await client.receive()

    assert accepted
    assert message["type"] == "connected"
    session = await VoiceSession.objects.aget(pk=message["sessionId"])
    assert session.user_id == alice.pk
    await client.close()


async def test_late_auth_with_a_bad_token_closes_4401(bob: User) -> None:
    client = JsonVoiceClient()
    await client.connect()

    await client.send({"type": "auth", "token": token_for(bob)})

    assert await client.closed_with() == 4401


async def test_any_other_message_before_auth_closes_4401(db: None) -> None:
    client = JsonVoiceClient()
    await client.connect()

    await client.send({"type": "ping"})

    assert await client.closed_with() == 4401


async def test_no_auth_in_time_closes_4401(db: None) -> None:
    client = JsonVoiceClient()
    await client.connect()

    assert await client.closed_with(within=5) == 4401


async def test_anonymous_clients_are_admitted_when_allowed(settings: Any, db: None) -> None:
    settings.VOICE_ALLOW_ANONYMOUS = True
    client = JsonVoiceClient()

    message = await connected(client)

    session = await VoiceSession.objects.aget(pk=message["sessionId"])
    assert session.user_id is None
    await client.close()


async def test_a_foreign_origin_is_refused(alice: User) -> None:
    client = JsonVoiceClient(
        token=token_for(alice), headers=[(b"origin", b"https://evil.example.com")]
    )

    accepted, _ = await client.connect()

    assert not accepted


async def test_a_proposed_session_id_is_kept(alice: User) -> None:
    proposal = str(uuid.uuid4())
    client = JsonVoiceClient(path=f"/api/voice/ws?sessionId={proposal}", token=token_for(alice))

    message = await connected(client)

    assert message["sessionId"] == proposal
    await client.close()


async def test_the_fallback_path_takes_the_session_id_from_the_url(alice: User) -> None:
    proposal = str(uuid.uuid4())
    client = JsonVoiceClient(path=f"/ws/{proposal}", token=token_for(alice))

    message = await connected(client)

    assert message["sessionId"] == proposal
    await client.close()


@pytest.mark.parametrize("proposal", ["not-a-uuid", "1234"])
async def test_a_malformed_session_id_is_replaced(alice: User, proposal: str) -> None:
    client = JsonVoiceClient(path=f"/api/voice/ws?sessionId={proposal}", token=token_for(alice))

    message = await connected(client)

    assert message["sessionId"] != proposal
    assert uuid.UUID(message["sessionId"])
    await client.close()


async def test_a_session_id_in_use_is_replaced(alice: User) -> None:
    taken = str(uuid.uuid4())
    first = JsonVoiceClient(path=f"/api/voice/ws?sessionId={taken}", token=token_for(alice))
    second = JsonVoiceClient(path=f"/api/voice/ws?sessionId={taken}", token=token_for(alice))

    assert (await connected(first))["sessionId"] == taken
    assert (await connected(second))["sessionId"] != taken
    await first.close()
    await second.close()
