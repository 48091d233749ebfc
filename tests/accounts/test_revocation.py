"""A user who loses access loses every live session with 4401 (PROTOCOL.md section 1), in one
process: through the user's signals, and through the heartbeat when signals are bypassed."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from tests.transports.stream_socket.client import StreamVoiceClient
from voice.models import VoiceSession

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

# The contract's bound: within 5 s of the change.
WITHIN = 5.0


@pytest.fixture(autouse=True)
def slow_heartbeat(settings: Any) -> None:
    # The signal path alone must do it: no heartbeat comes within a test.
    settings.VOICE_HEARTBEAT_SECONDS = 600


async def session_of(user: User) -> tuple[JsonVoiceClient, str]:
    client = JsonVoiceClient(token=token_for(user))
    await client.connect()
    return client, (await client.receive())["sessionId"]


def change_password(user: User) -> None:
    user.set_password("a-new-password-2")
    user.save()


def deactivate(user: User) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


@pytest.mark.parametrize("change", [change_password, deactivate, User.delete])
async def test_losing_access_ends_the_users_sessions_with_4401(alice: User, change: Any) -> None:
    client, session_id = await session_of(alice)

    await sync_to_async(change)(alice)

    assert await client.closed_with(within=WITHIN) == 4401
    await client.close()  # returns once the consumer has recorded the end
    row = await VoiceSession.objects.aget(pk=session_id)
    assert row.end_reason == "revoked"


async def test_a_streaming_session_ends_too(alice: User) -> None:
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive())["type"] == "ready"

    await sync_to_async(deactivate)(alice)

    with pytest.raises(ConnectionError, match="closed with 4401"):
        while True:
            await client.receive(within=WITHIN)


async def test_other_changes_and_other_users_keep_their_sessions(alice: User, sam: User) -> None:
    client, _ = await session_of(alice)
    others, _ = await session_of(sam)

    alice.first_name = "Alice"
    await alice.asave()
    await sync_to_async(change_password)(sam)

    assert await others.closed_with(within=WITHIN) == 4401
    await client.send({"type": "ping", "payload": "still here"})
    assert (await client.receive())["payload"] == "still here"
    await client.close()


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"password": make_password("bypassing-signals-3")}]
)
async def test_a_change_bypassing_signals_ends_sessions_at_the_heartbeat(
    alice: User, settings: Any, change: dict[str, Any]
) -> None:
    settings.VOICE_HEARTBEAT_SECONDS = 0.05
    client, session_id = await session_of(alice)

    await User.objects.filter(pk=alice.pk).aupdate(**change)

    assert await client.closed_with(within=WITHIN) == 4401
    await client.close()  # returns once the consumer has recorded the end
    row = await VoiceSession.objects.aget(pk=session_id)
    assert row.end_reason == "revoked"
