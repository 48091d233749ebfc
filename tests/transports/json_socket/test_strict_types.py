"""/api/voice/ws: a field of the wrong JSON type is ``bad_message``, never silently coerced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient
from voice.transports import codes
from voice.transports.json_socket import parse as p
from voice.transports.protocol import ProtocolError

WRONG_SETTINGS = {
    "number as a string": {"sampleRate": "48000"},
    "float for an integer": {"sampleRate": 48000.0},
    "bool for an integer": {"sampleRate": True},
    "bool for a number": {"rate": True},
    "string for a number": {"rate": "1.5"},
    "number for a string": {"language": 5},
    "bool for a string": {"voiceId": True},
    "string for a bool": {"autoAddToMessages": "yes"},
    "number for a bool": {"autoAddToMessages": 1},
}
WRONG_MESSAGES = {
    "number for text": {"type": "text", "text": 5},
    "string for a timestamp": {"type": "audio_chunk", "data": "AAAA", "timestamp": "5"},
    "bool for a timestamp": {"type": "audio_chunk", "data": "AAAA", "timestamp": True},
    "list for settings": {"type": "config", "settings": [1]},
    "string for context": {"type": "config", "context": "{}"},
    "number for audio": {"type": "audio_chunk", "data": 5},
}


@pytest.mark.parametrize("settings", WRONG_SETTINGS.values(), ids=WRONG_SETTINGS.keys())
def test_a_setting_of_the_wrong_type_is_bad_message(settings: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        p.parse_settings(settings)

    assert caught.value.code == codes.BAD_MESSAGE


@pytest.mark.parametrize("message", WRONG_MESSAGES.values(), ids=WRONG_MESSAGES.keys())
def test_a_field_of_the_wrong_type_is_bad_message(message: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        p.parse_client_message(json.dumps(message))

    assert caught.value.code == codes.BAD_MESSAGE


def test_an_integer_is_a_good_number() -> None:
    settings = p.parse_settings({"rate": 2, "sampleRate": 16000, "autoAddToMessages": False})

    assert (settings.rate, settings.sample_rate) == (2.0, 16000)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("quiet_engine")
async def test_a_sample_rate_sent_as_a_string_is_answered_and_the_connection_stays(
    alice: User,
) -> None:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    await client.receive()

    await client.send({"type": "config", "settings": {"sampleRate": "48000"}})
    answer = await client.receive()
    await client.send({"type": "ping", "payload": 1})

    assert answer["type"] == "error" and answer["code"] == "bad_message"
    assert "sampleRate" in answer["message"]
    assert (await client.receive())["type"] == "pong"
    await client.close()
