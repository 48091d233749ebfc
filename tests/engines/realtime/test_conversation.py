"""Both transports on the openai-realtime engine, against the fake's Realtime WebSocket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import chunks, silence, tone
from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient, types
from tests.transports.stream_socket.client import StreamVoiceClient
from voice.models import SitePage, Turn

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_48K = 1920  # 20 ms of PCM16 at 48 kHz


@pytest.fixture(autouse=True)
def realtime(settings: Any, fake_openai: Any) -> Any:
    settings.VOICE_ENGINE = "openai-realtime"
    fake_openai.config.transcript = "take me to the pricing page"
    fake_openai.config.reply = "Sure. Here is the pricing page."
    return fake_openai


@pytest.fixture
def pricing(db: None) -> SitePage:
    return SitePage.objects.create(
        slug="pricing", title="Pricing", path="/pricing", summary="Plans and prices"
    )


@pytest.fixture
async def stream(alice: User) -> StreamVoiceClient:
    client = StreamVoiceClient(token=token_for(alice))
    assert (await client.connect())[0]
    assert (await client.receive_json())["type"] == "ready"
    await client.control("voice_start", sampleRate=48000, channels=1, codec="pcm16")
    assert (await client.receive_json())["type"] == "ready"
    yield client
    await client.close()


async def speak_frames(client: StreamVoiceClient, speech: float = 0.6, pause: float = 0.9) -> None:
    audio = tone(speech, rate=48000) + silence(pause, rate=48000)
    for frame in chunks(audio, FRAME_48K):
        await client.frame(frame)


def replayed_items(fake: Any) -> int:
    """Items created on the newest upstream socket (the conversation replayed after a drop)."""
    newest = max(e.connection for e in fake.records.ws_events)
    return sum(
        e.connection == newest and e.event["type"] == "conversation.item.create"
        for e in fake.records.ws_events
    )


def texts(messages: list) -> list[dict]:
    return [m for m in messages if isinstance(m, dict)]


async def test_a_spoken_turn_found_by_server_vad(stream: StreamVoiceClient, realtime: Any) -> None:
    await speak_frames(stream)

    seen = await stream.receive_until("audio_response", final=True)

    kinds = [m["type"] for m in texts(seen)]
    vad = [m["metadata"]["active"] for m in texts(seen) if m["type"] == "vad"]
    assert vad[:2] == [True, False]
    finals = [m for m in texts(seen) if m["type"] == "user_transcript" and m["metadata"]["final"]]
    assert finals[0]["data"] == "take me to the pricing page"
    said = [m for m in texts(seen) if m["type"] == "transcription" and m["metadata"]["final"]]
    assert said[0]["data"] == "Sure. Here is the pricing page."
    assert kinds.index("vad") < kinds.index("user_transcript") < kinds.index("audio_response")
    audio = [m for m in seen if isinstance(m, bytes)]
    assert sum(map(len, audio)) > 24000 and all(len(a) % 2 == 0 for a in audio)
    update = next(
        e.event for e in realtime.records.ws_events if e.event["type"] == "session.update"
    )
    detection = update["session"]["audio"]["input"]["turn_detection"]
    assert (detection["type"], detection["threshold"]) == ("server_vad", 0.5)
    assert (detection["prefix_padding_ms"], detection["silence_duration_ms"]) == (300, 500)
    assert {t["name"] for t in update["session"]["tools"]} >= {
        "search_site",
        "navigate_to_page",
        "get_site_info",
    }


async def test_a_navigation_tool_round_trip(
    stream: StreamVoiceClient, realtime: Any, pricing: SitePage
) -> None:
    realtime.config.tool_rules = [("pricing", "navigate_to_page", {"page": "pricing"})]

    await speak_frames(stream)
    seen = await stream.receive_until("audio_response", final=True)

    navigation = next(m for m in texts(seen) if m["type"] == "navigation")
    assert navigation["data"] == "/pricing" and navigation["metadata"]["page"] == "pricing"
    outputs = [
        e.event["item"]
        for e in realtime.records.ws_events
        if e.event["type"] == "conversation.item.create"
        and e.event["item"]["type"] == "function_call_output"
    ]
    assert json.loads(outputs[0]["output"]) == {"ok": True, "page": "Pricing", "path": "/pricing"}


async def test_barge_in_stops_audio_at_once_and_truncates_what_was_received(
    stream: StreamVoiceClient, realtime: Any
) -> None:
    realtime.config.reply = "This is a long answer. " * 8
    realtime.config.rt_delta_interval_ms = 100  # audio streams in real time
    await speak_frames(stream)
    seen = await stream.receive_until("audio_response", streaming=True)
    received = 0
    while received < 4800 * 3:  # a few deltas in
        message = await stream.receive()
        if isinstance(message, bytes):
            received += len(message)

    await stream.control("barge_in")
    after = await stream.receive_until("barge_in")
    received += sum(len(m) for m in after if isinstance(m, bytes))
    await stream.control("ping", data="after")
    rest = await stream.receive_until("pong")
    await realtime.wait_for(
        lambda: any(
            e.event["type"] == "conversation.item.truncate" for e in realtime.records.ws_events
        )
    )

    assert seen and not any(isinstance(m, bytes) for m in rest)
    barge = after[-1]
    assert 0 <= barge["metadata"]["latency"] < 100
    truncate = next(
        e.event
        for e in realtime.records.ws_events
        if e.event["type"] == "conversation.item.truncate"
    )
    assert truncate["audio_end_ms"] == received // 48
    assert any(e.event["type"] == "response.cancel" for e in realtime.records.ws_events)
    turn = await Turn.objects.aget()
    assert turn.end_reason == "barge_in" and turn.barge_in_at is not None


async def test_the_json_protocol_on_the_realtime_engine(alice: User, realtime: Any) -> None:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    await client.receive()
    await client.send(
        {"type": "config", "settings": {"audioFormat": "pcm16", "outputFormat": "pcm16"}}
    )

    await client.send({"type": "start_listening"})
    for chunk in chunks(tone(1.0), 4800):
        await client.send_audio(chunk)
    await client.send({"type": "stop_listening"})
    messages = await client.receive_until("audio_complete")

    kinds = types(messages)
    assert kinds.index("transcription_final") < kinds.index("response_complete")
    assert kinds.index("response_start") < kinds.index("response_complete")
    assert kinds[-2] == "audio_chunk" and messages[-2]["isLast"]
    final = next(m for m in messages if m["type"] == "transcription_final")
    assert final["text"] == "take me to the pricing page"
    await client.close()


async def test_an_upstream_drop_is_recovered_and_the_next_turn_works(
    stream: StreamVoiceClient, realtime: Any
) -> None:
    await speak_frames(stream)
    await stream.receive_until("audio_response", final=True)
    first = {e.connection for e in realtime.records.ws_events}
    # The next turn ends (the socket's second rate_limits.updated), then the socket drops.
    realtime.faults.ws_drop(after="rate_limits.updated", nth=2)
    realtime.faults.ws_drop(after="session.updated")  # and the first reconnection is cut too

    await speak_frames(stream)
    await stream.receive_until("audio_response", final=True)
    await realtime.wait_for(lambda: replayed_items(realtime) >= 4)  # 2 turns, both sides
    await speak_frames(stream)
    seen = await stream.receive_until("audio_response", final=True)

    reconnected = {e.connection for e in realtime.records.ws_events} - first
    assert len(reconnected) >= 2
    assert any(isinstance(m, bytes) for m in seen)
    replayed = [
        e.event
        for e in realtime.records.ws_events
        if e.connection == max(reconnected) and e.event["type"] == "conversation.item.create"
    ]
    assert any(item["item"]["role"] == "user" for item in replayed)


async def test_an_upstream_that_refuses_us_ends_the_session_with_4502(
    alice: User, realtime: Any
) -> None:
    realtime.faults.fail("realtime", 401, times=10)
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()

    seen = []
    code = None
    while code is None:
        try:
            seen.append(await client.receive())
        except ConnectionError as closed:
            code = int(str(closed).split()[-1])

    errors = [m for m in seen if isinstance(m, dict) and m["type"] == "error"]
    assert errors and errors[0]["metadata"]["error"] == "upstream"
    assert code == 4502
    await client.close()
