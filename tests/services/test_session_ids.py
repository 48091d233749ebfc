"""Who may use a proposed session id (PROTOCOL.md section 2): never another user's session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.utils import timezone

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import VoiceSession
from voice.services.sessions import may_use_session_id


def ended_session_of(user: User) -> VoiceSession:
    now = timezone.now()
    return VoiceSession.objects.create(
        user=user, transport="json", engine="local", heartbeat_at=now, ended_at=now
    )


@pytest.fixture
def mallory(db: Any) -> User:
    return User.objects.create_user("mallory", "mallory@example.com", "mallory-password-1")


@pytest.mark.django_db
def test_an_ended_session_is_resumed_by_its_owner_only(alice: User, mallory: User) -> None:
    session = ended_session_of(alice)

    assert may_use_session_id(session.pk, alice.pk)
    assert not may_use_session_id(session.pk, mallory.pk)
    assert not may_use_session_id(session.pk, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("quiet_engine")
async def test_another_users_ended_session_id_gets_a_fresh_session(
    alice: User, mallory: User
) -> None:
    taken = str((await sync_to_async(ended_session_of)(alice)).pk)
    client = JsonVoiceClient(path=f"/api/voice/ws?sessionId={taken}", token=token_for(mallory))

    accepted, _ = await client.connect()
    message = await client.receive()

    assert accepted and message["type"] == "connected"
    assert message["sessionId"] != taken and uuid.UUID(message["sessionId"])
    row = await VoiceSession.objects.aget(pk=taken)
    assert row.user_id == alice.pk and row.ended_at is not None
    await client.close()
