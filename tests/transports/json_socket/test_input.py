"""/api/voice/ws: every bad input is answered with its code and the connection stays."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]


async def still_open(client: JsonVoiceClient) -> bool:
    await client.send({"type": "ping", "payload": {"n": 42}})
    return await client.receive() == {"type": "pong", "payload": {"n": 42}}


async def answer_to_text(client: JsonVoiceClient, text: str) -> dict:
    await client.ws.send_to(text_data=text)
    return await client.receive()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{not json", "bad_message"),
        ("[]", "bad_message"),
        ('{"kind": "config"}', "bad_message"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "audio_chunk", "data": "@@@"}', "bad_message"),
        ('{"type": "audio_chunk"}', "bad_message"),
        ('{"type": "text", "text": 5}', "bad_message"),
        ('{"type": "config", "settings": {"rate": 10}}', "bad_message"),
        ('{"type": "config", "settings": {"audioFormat": "flac"}}', "bad_message"),
        (json.dumps({"type": "text", "text": "x" * 4001}), "too_large"),
        (json.dumps({"type": "config", "context": {"x": "y" * 70000}}), "too_large"),
        (
            json.dumps({"type": "audio_chunk", "data": base64.b64encode(b"\0" * 300_000).decode()}),
            "too_large",
        ),
    ],
)
async def test_bad_input_gets_its_error_code_and_the_connection_stays(
    client: JsonVoiceClient, text: str, code: str
) -> None:
    answer = await answer_to_text(client, text)

    assert answer["type"] == "error"
    assert answer["code"] == code
    assert answer["message"]
    assert await still_open(client)


async def test_a_binary_message_is_bad_message(client: JsonVoiceClient) -> None:
    await client.ws.send_to(bytes_data=b"\x00\x01")

    answer = await client.receive()

    assert answer["code"] == "bad_message"
    assert await still_open(client)


async def test_undecodable_audio_is_bad_audio_and_the_session_goes_on(
    client: JsonVoiceClient,
) -> None:
    await client.send({"type": "config", "settings": {"audioFormat": "opus"}})
    await client.send_audio(b"\xff\xfe definitely not opus")

    answer = await client.receive()

    assert answer["code"] == "bad_audio"
    assert await still_open(client)


async def test_odd_length_pcm_is_bad_audio(client: JsonVoiceClient) -> None:
    await client.send({"type": "config", "settings": {"audioFormat": "pcm16"}})
    await client.send_audio(b"\x01\x02\x03")

    assert (await client.receive())["code"] == "bad_audio"
    assert await still_open(client)


async def test_webm_without_its_header_is_bad_audio(client: JsonVoiceClient) -> None:
    await client.send_audio(b"\x43\xb6\x75\x01 a cluster without the header")

    assert (await client.receive())["code"] == "bad_audio"
    assert await still_open(client)


async def test_a_message_over_512_kib_closes_4413(client: JsonVoiceClient) -> None:
    await client.ws.send_to(text_data=json.dumps({"type": "text", "text": "x" * 600_000}))

    assert await client.closed_with() == 4413


async def test_a_flood_is_rate_limited_and_then_closed_4429(alice: User, settings: Any) -> None:
    settings.VOICE_MESSAGE_RATE = 1
    settings.VOICE_FLOOD_GRACE_SECONDS = 0.0
    flood = JsonVoiceClient(token=token_for(alice))
    await flood.connect()
    assert (await flood.receive())["type"] == "connected"

    for _ in range(310):
        await flood.send({"type": "ping"})
    pongs = [await flood.receive() for _ in range(300)]
    limited = await flood.receive()
    await flood.send({"type": "ping"})

    assert {m["type"] for m in pongs} == {"pong"}
    assert limited == {"type": "error", "message": "Rate limit exceeded", "code": "rate_limited"}
    assert await flood.closed_with() == 4429
