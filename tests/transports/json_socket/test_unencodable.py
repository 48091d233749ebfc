"""/api/voice/ws: valid JSON holding a lone surrogate, which no UTF-8 encoder can write, is
``bad_message`` wherever it sits, and the connection stays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]

LONE = "\ud800"  # json.dumps writes it as the escape "\ud800", as a hostile client would

MESSAGES = {
    "type": {"type": "text" + LONE, "text": "hello"},
    "text": {"type": "text", "text": "hello " + LONE},
    "context": {"type": "config", "context": {"page": {"title": "Prices " + LONE}}},
    "context key": {"type": "config", "context": {LONE: 1}},
    "settings": {"type": "config", "settings": {"language": "en" + LONE}},
    "settings key": {"type": "config", "settings": {"colour" + LONE: "blue"}},
    "nested deep": {"type": "config", "context": {"a": [[[{"b": ["\udfff"]}]]]}},
    "ping payload": {"type": "ping", "payload": {"echo": LONE}},
    "audio data": {"type": "audio_chunk", "data": "AAAA" + LONE},
    "ignored field": {"type": "stop_listening", "extra": LONE},
}


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
async def test_a_lone_surrogate_is_bad_message_and_the_connection_stays(
    client: JsonVoiceClient, message: dict[str, Any]
) -> None:
    await client.ws.send_to(text_data=json.dumps(message))

    answer = await client.receive()
    await client.send({"type": "ping", "payload": "still here"})

    assert answer["type"] == "error" and answer["code"] == "bad_message"
    assert await client.receive() == {"type": "pong", "payload": "still here"}


async def test_a_surrogate_pair_is_one_good_character(client: JsonVoiceClient) -> None:
    await client.ws.send_to(text_data=json.dumps({"type": "ping", "payload": "\U0001f600"}))

    assert await client.receive() == {"type": "pong", "payload": "\U0001f600"}
