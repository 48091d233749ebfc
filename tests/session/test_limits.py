"""Per-user limits on the voice sockets: connections, utterances, audio per day."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import tone
from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from tests.transports.stream_socket.client import StreamVoiceClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def pipeline(settings: Any, fake_openai: Any) -> Any:
    settings.VOICE_ENGINE = "openai-pipeline"
    return fake_openai


async def connected(alice: User) -> JsonVoiceClient:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive())["type"] == "connected"
    return client


async def test_too_many_live_sessions_close_4429(alice: User, settings: Any) -> None:
    settings.VOICE_MAX_SESSIONS_PER_USER = 1
    first = await connected(alice)
    second = JsonVoiceClient(token=token_for(alice))

    await second.connect()

    assert await second.closed_with() == 4429
    await first.close()


async def test_too_many_connections_a_minute_close_4429_on_the_stream_socket(
    alice: User, settings: Any
) -> None:
    settings.VOICE_CONNECTIONS_PER_MINUTE_PER_USER = 1
    outcomes = []

    # Windows are whole minutes: at most one boundary can fall between three quick tries.
    for _ in range(3):
        client = StreamVoiceClient(token=token_for(alice))
        await client.connect()
        first = await client.ws.receive_output(5)
        outcomes.append(first.get("code") if first["type"] == "websocket.close" else "ready")
        await client.close()

    assert outcomes[0] == "ready"
    assert 4429 in outcomes and outcomes.count("ready") <= 2


async def test_utterances_past_the_limit_are_refused_with_rate_limited(
    alice: User, settings: Any
) -> None:
    settings.VOICE_UTTERANCES_PER_MINUTE = 1
    client = await connected(alice)
    await client.send({"type": "text", "text": "first"})
    await client.receive_until("audio_complete")

    await client.send({"type": "text", "text": "second"})
    refused = await client.receive()
    await client.send({"type": "start_listening"})
    await client.send({"type": "ping", "payload": 1})

    assert refused == {"type": "error", "message": "Rate limit exceeded", "code": "rate_limited"}
    assert (await client.receive())["type"] == "pong"  # refused quietly until the window resets
    await client.close()


async def test_audio_past_the_daily_allowance_is_refused(alice: User, settings: Any) -> None:
    settings.VOICE_AUDIO_SECONDS_PER_DAY = 1
    settings.VOICE_HEARTBEAT_SECONDS = 0.05
    client = await connected(alice)
    await client.send({"type": "config", "settings": {"audioFormat": "pcm16"}})
    await client.send({"type": "start_listening"})

    await client.send_audio(tone(1.5))
    refused = await client.receive_until("error")

    assert refused[-1] == {
        "type": "error",
        "message": "Rate limit exceeded",
        "code": "rate_limited",
    }
    await client.close()
