"""/voice-ws: a JSON control message holding a lone surrogate is ``bad_message`` and the
connection stays."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.stream_socket.client import StreamVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

LONE = "\udc00"

MESSAGES = {
    "type": {"type": "ping" + LONE},
    "ping data": {"type": "ping", "data": "hello " + LONE},
    "metadata": {"type": "voice_start", "metadata": {"codec": "opus" + LONE}},
    "metadata key": {"type": "voice_start", "metadata": {LONE: 1}},
    "nested": {"type": "barge_in", "data": [{"x": [LONE]}]},
}


@pytest.fixture
async def client(alice: User) -> StreamVoiceClient:
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive_json())["type"] == "ready"
    yield client
    await client.close()


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
async def test_a_lone_surrogate_is_bad_message_and_the_connection_stays(
    client: StreamVoiceClient, message: dict[str, Any]
) -> None:
    await client.ws.send_to(text_data=json.dumps(message))

    answer = await client.receive_json()
    await client.control("ping", "still here")

    assert answer["type"] == "error" and answer["metadata"]["error"] == "bad_message"
    assert (await client.receive_json())["data"] == "still here"
