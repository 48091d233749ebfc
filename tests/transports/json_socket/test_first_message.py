"""/api/voice/ws without a handshake token: any first message but a good ``auth`` closes 4401
(PROTOCOL.md section 1), whatever shape it has."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def anonymous_client(settings: Any) -> JsonVoiceClient:
    settings.VOICE_AUTH_TIMEOUT = 60  # a close that comes now is the message's, not the timer's
    anonymous_client = JsonVoiceClient()
    accepted, _ = await anonymous_client.connect()
    assert accepted
    yield anonymous_client
    await anonymous_client.close()


async def closed_at_once(anonymous_client: JsonVoiceClient) -> int | None:
    """The close code, when the very next thing the server does is close (no error first)."""
    output = await anonymous_client.ws.receive_output(timeout=5)
    return output.get("code") if output["type"] == "websocket.close" else None


@pytest.mark.parametrize("token", [5, None, True, ["a.b.c"], {"jwt": "a.b.c"}, ""])
async def test_an_auth_whose_token_is_not_a_string_closes_4401(
    anonymous_client: JsonVoiceClient, token: object
) -> None:
    await anonymous_client.send({"type": "auth", "token": token})

    assert await closed_at_once(anonymous_client) == 4401


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"type": "teleport"}',
        '{"type": 7}',
        json.dumps({"type": "auth", "token": "\ud800"}),
        json.dumps({"type": "text", "text": "x" * 5000}),
    ],
    ids=["invalid JSON", "no object", "unknown type", "no string type", "unencodable", "too large"],
)
async def test_a_first_message_that_is_no_auth_closes_4401(
    anonymous_client: JsonVoiceClient, text: str
) -> None:
    await anonymous_client.ws.send_to(text_data=text)

    assert await closed_at_once(anonymous_client) == 4401


async def test_a_binary_first_message_closes_4401(anonymous_client: JsonVoiceClient) -> None:
    await anonymous_client.ws.send_to(bytes_data=b"\x00\x01")

    assert await closed_at_once(anonymous_client) == 4401
