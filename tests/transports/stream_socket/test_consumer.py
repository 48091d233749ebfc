"""/voice-ws on the pipeline engine: negotiation, frames, bad input, a turn ended by voice_end."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import chunks, opus_packets, silence, tone
from tests.conftest import token_for
from tests.transports.stream_socket.client import StreamVoiceClient
from voice.models import VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def pipeline(settings: Any, fake_openai: Any) -> Any:
    settings.VOICE_ENGINE = "openai-pipeline"
    fake_openai.config.transcript = "show me the pricing"
    fake_openai.config.reply = "Here are our prices. They are fair."
    return fake_openai


@pytest.fixture
async def client(alice: User) -> StreamVoiceClient:
    client = StreamVoiceClient(token=token_for(alice))
    accepted, _ = await client.connect()
    assert accepted
    yield client
    await client.close()


async def test_ready_after_the_handshake_with_the_defaults(client: StreamVoiceClient) -> None:
    ready = await client.receive_json()

    assert ready["type"] == "ready"
    meta = ready["metadata"]
    assert (meta["sampleRate"], meta["channels"], meta["codec"]) == (48000, 1, "opus")
    assert await VoiceSession.objects.filter(pk=meta["sessionId"], transport="binary").aexists()


async def test_no_token_is_refused_at_the_handshake(db: None) -> None:
    accepted, _ = await StreamVoiceClient().connect()

    assert not accepted


async def test_a_bad_token_is_refused_at_the_handshake(db: None) -> None:
    accepted, _ = await StreamVoiceClient(token="bad").connect()

    assert not accepted


async def test_voice_start_is_confirmed_with_the_same_session(client: StreamVoiceClient) -> None:
    first = await client.receive_json()

    await client.control("voice_start", sampleRate=16000, channels=1, codec="pcm16")
    second = await client.receive_json()

    assert second["type"] == "ready"
    assert second["metadata"] == {
        "sessionId": first["metadata"]["sessionId"],
        "sampleRate": 16000,
        "channels": 1,
        "codec": "pcm16",
    }


@pytest.mark.parametrize(
    "metadata",
    [
        {"sampleRate": 44100, "codec": "pcm16"},
        {"codec": "mp3"},
        {"channels": 2},
        {"codec": "opus", "sampleRate": 16000},
        {"sampleRate": "48000"},  # strict types: no coercion
        {"channels": True},
        {"channels": 1.0},
    ],
)
async def test_a_bad_voice_start_is_bad_message(client: StreamVoiceClient, metadata: dict) -> None:
    await client.receive_json()

    await client.control("voice_start", **metadata)
    answer = await client.receive_json()

    assert answer["type"] == "error"
    assert answer["metadata"]["error"] == "bad_message"


@pytest.mark.parametrize(("size", "rate"), [(1920, 48000), (960, 24000), (640, 16000)])
async def test_a_pcm_frame_before_voice_start_starts_implicitly(
    client: StreamVoiceClient, size: int, rate: int
) -> None:
    await client.receive_json()

    await client.frame(b"\0" * size)
    ready = await client.receive_json()

    assert ready["type"] == "ready"
    assert ready["metadata"]["codec"] == "pcm16"
    assert ready["metadata"]["sampleRate"] == rate
    assert ready["metadata"]["implicit"] is True


async def test_an_opus_frame_before_voice_start_starts_implicitly(
    client: StreamVoiceClient,
) -> None:
    await client.receive_json()

    await client.frame(opus_packets(tone(0.1))[0])
    ready = await client.receive_json()

    assert ready["metadata"]["codec"] == "opus"
    assert ready["metadata"]["sampleRate"] == 48000
    assert ready["metadata"]["implicit"] is True


async def test_a_first_frame_that_fits_nothing_is_not_streaming(client: StreamVoiceClient) -> None:
    await client.receive_json()

    await client.frame(b"\x00" * 7)  # TOC says 10 ms SILK: neither PCM nor a 20 ms packet
    answer = await client.receive_json()
    await client.control("ping", data="still")

    assert answer["metadata"]["error"] == "not_streaming"
    assert (await client.receive_json())["type"] == "pong"


async def test_bad_frames_are_dropped_counted_and_reported_once_a_second(
    client: StreamVoiceClient,
) -> None:
    ready = await client.receive_json()
    await client.control("voice_start", sampleRate=48000, codec="pcm16")
    await client.receive_json()

    for _ in range(5):
        await client.frame(b"\0" * 1000)
    await client.control("ping", data=1)
    seen = await client.receive_until("pong")

    errors = [m for m in seen if m["type"] == "error"]
    assert len(errors) == 1 and errors[0]["metadata"]["error"] == "bad_frame"
    await client.close()
    session = await VoiceSession.objects.aget(pk=ready["metadata"]["sessionId"])
    assert session.bad_frames == 5


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("nope", "bad_message"),
        ("[]", "bad_message"),
        ('{"type": "warp"}', "unknown_type"),
        ('{"type": "voice_start", "metadata": 3}', "bad_message"),
    ],
)
async def test_bad_text_is_answered_and_the_connection_stays(
    client: StreamVoiceClient, text: str, code: str
) -> None:
    await client.receive_json()

    await client.ws.send_to(text_data=text)
    answer = await client.receive_json()
    await client.control("ping", data={"t": 1})
    pong = await client.receive_json()

    assert answer["type"] == "error" and answer["metadata"]["error"] == code and answer["data"]
    assert pong == {"type": "pong", "data": {"t": 1}, "metadata": {}}


async def test_audio_faster_than_the_burst_allowance_closes_4429(client: StreamVoiceClient) -> None:
    await client.receive_json()
    await client.control("voice_start", sampleRate=16000, codec="pcm16")
    await client.receive_json()

    for frame in chunks(silence(6.0, rate=16000), 640):  # 6 s at once: past the 5 s burst
        await client.frame(frame)

    assert await client.closed_with() == 4429


async def test_a_turn_ended_by_voice_end_is_answered_with_audio(client: StreamVoiceClient) -> None:
    await client.receive_json()
    await client.control("voice_start", sampleRate=24000, codec="pcm16")
    await client.receive_json()

    for frame in chunks(tone(1.0), 960):
        await client.frame(frame)
    await client.control("voice_end")
    seen = await client.receive_until("audio_response", final=True)

    texts = [m for m in seen if isinstance(m, dict)]
    audio = [m for m in seen if isinstance(m, bytes)]
    finals = [m for m in texts if m["type"] == "user_transcript" and m["metadata"]["final"]]
    assert finals[0]["data"] == "show me the pricing"
    said = [m for m in texts if m["type"] == "transcription" and m["metadata"].get("final")]
    assert said[0]["data"] == "Here are our prices. They are fair."
    starts = [m for m in texts if m["type"] == "audio_response" and m["metadata"].get("streaming")]
    assert len(starts) == 1 and starts[0]["metadata"]["sequence"] == 1
    assert seen.index(starts[0]) < seen.index(audio[0])
    assert sum(len(a) for a in audio) > 24000 and all(len(a) % 2 == 0 for a in audio)


async def test_a_binary_message_over_512_kib_closes_4413(client: StreamVoiceClient) -> None:
    await client.receive_json()

    await client.frame(b"\0" * (512 * 1024 + 1))

    assert await client.closed_with() == 4413
