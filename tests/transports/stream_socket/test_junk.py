"""/voice-ws: binary junk counts against the message rate, is reported once a second and a
client that keeps sending it is closed with 4429."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.conftest import token_for
from tests.transports.flood import flood
from tests.transports.stream_socket.client import StreamVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]
flooding = pytest.mark.usefixtures("fast_flood")

WRONG_SIZE = b"\0" * 1000  # not one 20 ms PCM16 frame at 48 kHz (1920 bytes)
UNDECODABLE_OPUS = b"\x01\xff"  # the TOC says 20 ms (two 10 ms frames), the rest is no packet


@pytest.fixture
async def client(alice: User) -> StreamVoiceClient:
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive_json())["type"] == "ready"
    yield client
    await client.close()


async def start(client: StreamVoiceClient, codec: str) -> None:
    await client.control("voice_start", sampleRate=48000, codec=codec)
    assert (await client.receive_json())["type"] == "ready"


@flooding
@pytest.mark.parametrize(("codec", "junk"), [("pcm16", WRONG_SIZE), ("opus", UNDECODABLE_OPUS)])
async def test_junk_frames_are_told_once_then_closed_4429(
    client: StreamVoiceClient, codec: str, junk: bytes
) -> None:
    await start(client, codec)

    outcome = await flood(client.ws, lambda: client.frame(junk))

    assert len(outcome.errors("rate_limited")) == 1
    assert len(outcome.errors("bad_frame")) <= 1 + outcome.seconds  # once a second at most
    assert outcome.errors("bad_audio") == []
    assert outcome.close_code == 4429


async def test_undecodable_opus_is_a_bad_frame_reported_once_a_second(
    client: StreamVoiceClient,
) -> None:
    await start(client, "opus")

    for _ in range(3):
        await client.frame(UNDECODABLE_OPUS)
    await client.control("ping", data=1)
    seen = await client.receive_until("pong")

    assert [m["metadata"]["error"] for m in seen if m["type"] == "error"] == ["bad_frame"]


@flooding
async def test_junk_before_voice_start_counts_against_the_message_rate(
    client: StreamVoiceClient,
) -> None:
    outcome = await flood(client.ws, lambda: client.frame(b"\xff"))

    assert len(outcome.errors("rate_limited")) == 1
    assert outcome.close_code == 4429
