"""Spoken and typed turns over /api/voice/ws on the openai-pipeline engine, against the fake.

The client is written from PROTOCOL.md section 2; the engine runs the real openai SDK against
the local fake of OpenAI.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import (
    chunks,
    decode_file,
    decode_opus_packets,
    opus_packets,
    tone,
    webm_opus,
)
from tests.conftest import token_for
from tests.transports.json_socket.client import JsonVoiceClient, types
from voice.models import Turn, VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def pipeline(settings: Any, fake_openai: Any) -> Any:
    settings.VOICE_ENGINE = "openai-pipeline"
    settings.OPENAI_MAX_RETRIES = 1
    fake_openai.config.transcript = "what are your opening hours"
    fake_openai.config.reply = "We open at nine. We close at five. Is there anything else?"
    return fake_openai


@pytest.fixture
async def client(alice: User) -> JsonVoiceClient:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    assert (await client.receive())["type"] == "connected"
    yield client
    await client.close()


async def speak(client: JsonVoiceClient, audio: list[bytes]) -> list[dict]:
    await client.send({"type": "start_listening"})
    for chunk in audio:
        await client.send_audio(chunk)
    await client.send({"type": "stop_listening"})
    return await client.receive_until("audio_complete")


def assert_turn_order(messages: list[dict]) -> None:
    """partial* -> final -> response_start -> chunks -> complete, audio after the start."""
    kinds = types(messages)
    assert kinds.count("transcription_final") == 1
    final = kinds.index("transcription_final")
    assert set(kinds[:final]) <= {"transcription_partial"}
    assert kinds[final + 1] == "response_start"
    complete = kinds.index("response_complete")
    text_part = [k for k in kinds[final + 2 : complete] if k != "audio_chunk"]
    assert set(text_part) <= {"response_chunk", "setState"}
    assert kinds[-1] == "audio_complete"
    audio = [m for m in messages if m["type"] == "audio_chunk"]
    assert audio and audio[-1]["isLast"] and not any(a["isLast"] for a in audio[:-1])
    assert kinds.index("audio_chunk") > kinds.index("response_start")


def audio_bytes(messages: list[dict]) -> list[bytes]:
    return [base64.b64decode(m["data"]) for m in messages if m["type"] == "audio_chunk"]


async def test_a_spoken_pcm16_turn_in_order_with_pcm16_audio_back(client: JsonVoiceClient) -> None:
    await client.send(
        {
            "type": "config",
            "settings": {"audioFormat": "pcm16", "sampleRate": 16000, "outputFormat": "pcm16"},
        }
    )

    messages = await speak(client, chunks(tone(1.0, rate=16000), 3200))

    assert_turn_order(messages)
    final = next(m for m in messages if m["type"] == "transcription_final")
    complete = next(m for m in messages if m["type"] == "response_complete")
    assert final["text"] == "what are your opening hours"
    assert complete["text"] == "We open at nine. We close at five. Is there anything else?"
    assert "".join(m["text"] for m in messages if m["type"] == "response_chunk") == complete["text"]
    assert complete["usage"]["total_tokens"] > 0
    pcm = b"".join(audio_bytes(messages))
    assert len(pcm) % 2 == 0 and len(pcm) > 24000  # over half a second of 24 kHz speech


async def test_a_spoken_webm_turn_gets_mp3_it_can_decode(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    recording = webm_opus(tone(2.0))
    # MediaRecorder: the first chunk carries the header, the rest are bare clusters.
    messages = await speak(client, chunks(recording, 1500))

    assert_turn_order(messages)
    assert all(m["format"] == "mp3" for m in messages if m["type"] == "audio_chunk")
    assert decode_file(b"".join(audio_bytes(messages))) > 0.5
    uploads = [r for r in pipeline.requests if r.endpoint == "audio/transcriptions"]
    assert 1.9 < sum(r.audio_seconds for r in uploads) < 2.2


async def test_opus_packets_in_and_opus_packets_out(client: JsonVoiceClient) -> None:
    await client.send(
        {"type": "config", "settings": {"audioFormat": "opus", "outputFormat": "opus"}}
    )

    messages = await speak(client, opus_packets(tone(1.5)))

    assert_turn_order(messages)
    assert decode_opus_packets([p for p in audio_bytes(messages) if p]) > 0.5


async def test_a_typed_turn_is_answered_like_speech(client: JsonVoiceClient, pipeline: Any) -> None:
    await client.send({"type": "text", "text": "hello"})

    messages = await client.receive_until("audio_complete")

    kinds = types(messages)
    assert kinds[0] == "response_start"
    assert "transcription_final" not in kinds
    assert kinds.index("response_complete") > kinds.index("response_chunk")
    chat = [r for r in pipeline.requests if r.endpoint == "chat/completions"][-1]
    assert chat.json["messages"][-1] == {"role": "user", "content": "hello"}
    assert chat.json["stream"] is True


async def test_first_audio_of_a_long_reply_arrives_before_response_complete(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.config.chat_token_interval_ms = 15  # a reply that takes a while to write
    await client.send({"type": "config", "settings": {"outputFormat": "pcm16"}})
    await client.send({"type": "text", "text": "tell me"})

    kinds = types(await client.receive_until("audio_complete"))

    assert kinds.index("audio_chunk") < kinds.index("response_complete")
    speech = [r for r in pipeline.requests if r.endpoint == "audio/speech"]
    assert [r.json["input"] for r in speech] == [
        "We open at nine.",
        "We close at five.",
        "Is there anything else?",
    ]


async def test_partial_transcripts_never_reupload_audio(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    await client.send(
        {"type": "config", "settings": {"audioFormat": "pcm16", "outputFormat": "pcm16"}}
    )

    # 4.5 s sent at once stays inside the 5 s burst allowance.
    messages = await speak(client, chunks(tone(4.5), 4800))

    partials = [m for m in messages if m["type"] == "transcription_partial"]
    final = next(m for m in messages if m["type"] == "transcription_final")
    uploads = [r for r in pipeline.requests if r.endpoint == "audio/transcriptions"]
    assert partials and all(0 <= m["confidence"] <= 1 for m in partials)
    assert len(uploads) >= 4
    assert 4.4 < sum(r.audio_seconds for r in uploads) < 4.7  # each second uploaded once
    # Each segment is transcribed on its own (the fake says the whole sentence every time).
    assert final["text"] == " ".join(["what are your opening hours"] * len(uploads))


async def test_state_setters_are_offered_as_tools_and_reach_the_client(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    setters = {
        "theme": {
            "setTheme": {
                "description": "Switch the colour theme",
                "parameters": {"type": "object", "properties": {"mode": {"type": "string"}}},
            }
        }
    }
    pipeline.config.tool_rules = [("dark", "set_theme__setTheme", {"mode": "dark"})]
    await client.send(
        {"type": "config", "settings": {}, "context": {"stateSetters": setters, "page": "home"}}
    )
    await client.send({"type": "text", "text": "switch to dark mode"})

    messages = await client.receive_until("audio_complete")

    set_state = next(m for m in messages if m["type"] == "setState")
    assert set_state == {
        "type": "setState",
        "stateKey": "theme",
        "setterKey": "setTheme",
        "args": {"mode": "dark"},
    }
    chats = [r for r in pipeline.requests if r.endpoint == "chat/completions"]
    assert chats[0].json["tools"][-1]["function"]["name"] == "set_theme__setTheme"
    assert '"page": "home"' in chats[0].json["messages"][0]["content"]
    tool_message = chats[1].json["messages"][-1]
    assert tool_message["role"] == "tool" and json.loads(tool_message["content"])["ok"] is True


async def test_barge_in_stops_the_response_and_closes_it_with_audio_complete(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.config.tts_chunk_interval_ms = 30  # speech that streams for a while
    await client.send({"type": "config", "settings": {"outputFormat": "pcm16"}})
    await client.send({"type": "text", "text": "talk to me"})
    await client.receive_until("audio_chunk")

    await client.send({"type": "start_listening"})
    after = await client.receive_until("audio_complete")
    await client.send({"type": "ping", "payload": "after"})
    rest = await client.receive_until("pong")

    assert set(types(after)) <= {
        "audio_chunk",
        "response_chunk",
        "audio_complete",
        "response_complete",
    }
    assert [m["type"] for m in rest] == ["pong"]  # nothing of the old response follows


async def test_an_upstream_failure_is_reported_and_the_next_turn_works(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.fail("chat", 500, times=2)  # the first attempt and its one retry

    await client.send({"type": "text", "text": "hello"})
    failed = await client.receive_until("audio_complete")
    await client.send({"type": "text", "text": "hello again"})
    recovered = await client.receive_until("audio_complete")

    error = next(m for m in failed if m["type"] == "error")
    assert types(failed) == ["response_start", "error", "audio_complete"]
    assert error["code"] == "upstream"
    assert "sk-test" not in error["message"]
    assert "response_complete" in types(recovered)


async def test_busy_while_the_previous_utterance_is_transcribed(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.config.stt_delay_ms = 300
    await client.send({"type": "config", "settings": {"audioFormat": "pcm16"}})
    await client.send({"type": "start_listening"})
    await client.send_audio(tone(0.5))
    await client.send({"type": "stop_listening"})

    await client.send({"type": "start_listening"})
    answer = await client.receive()

    assert answer == {
        "type": "error",
        "message": "Still transcribing the previous utterance",
        "code": "busy",
    }
    await client.receive_until("audio_complete")


async def test_turns_are_recorded_with_their_stages(client: JsonVoiceClient) -> None:
    await client.send(
        {"type": "config", "settings": {"audioFormat": "pcm16", "outputFormat": "pcm16"}}
    )
    await speak(client, chunks(tone(1.0), 4800))
    await client.close()

    turn = await Turn.objects.select_related("session").aget()
    assert turn.end_reason == "completed"
    assert turn.user_text == "what are your opening hours"
    assert turn.assistant_text.startswith("We open at nine.")
    for stage in (
        "speech_end_at",
        "transcript_final_at",
        "first_text_at",
        "first_audio_at",
        "response_done_at",
    ):
        assert getattr(turn, stage) is not None, stage
    assert (
        turn.speech_end_at <= turn.transcript_final_at <= turn.first_text_at <= turn.first_audio_at
    )
    assert turn.voice_to_voice_ms is not None and turn.voice_to_voice_ms >= turn.stt_ms
    assert turn.usage["response"]["total_tokens"] > 0
    assert turn.session.ended_at is not None and turn.session.end_reason == "client_closed"
    assert turn.session.audio_in_ms == 1000
    assert turn.session.relay_frames > 0
    assert 0 <= turn.session.relay_p50_ms <= turn.session.relay_p99_ms <= turn.session.relay_max_ms


async def test_a_disconnect_mid_turn_leaves_a_closed_turn(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.config.chat_first_token_ms = 2000
    await client.send({"type": "text", "text": "slow answer please"})
    await client.receive_until("response_start")

    await client.close()

    session = await VoiceSession.objects.aget()
    turn = await Turn.objects.aget()
    assert session.ended_at is not None
    assert turn.ended_at is not None and turn.end_reason == "disconnected"
    assert turn.user_text == "slow answer please"


@pytest.mark.parametrize(
    "fault",
    [
        lambda fake: fake.fail("transcriptions", 500, times=2),
        lambda fake: fake.cut_stream("transcriptions"),
        lambda fake: fake.sse_error("chat"),
        lambda fake: fake.cut_stream("chat"),
        lambda fake: fake.fail("speech", 429, times=9, headers={"retry-after-ms": "10"}),
    ],
    ids=["stt-500", "stt-cut", "chat-sse-error", "chat-cut", "tts-429"],
)
async def test_each_upstream_fault_gives_upstream_and_the_next_turn_works(
    client: JsonVoiceClient, pipeline: Any, settings: Any, fault: Any
) -> None:
    settings.OPENAI_MAX_RETRIES = 1
    await client.send(
        {"type": "config", "settings": {"audioFormat": "pcm16", "outputFormat": "pcm16"}}
    )
    fault(pipeline)

    failed = await speak_until_error(client)
    recovered = await speak(client, chunks(tone(1.0), 4800))

    assert failed["code"] == "upstream"
    assert "response_complete" in types(recovered)


async def speak_until_error(client: JsonVoiceClient) -> dict:
    await client.send({"type": "start_listening"})
    for chunk in chunks(tone(1.0), 4800):
        await client.send_audio(chunk)
    await client.send({"type": "stop_listening"})
    messages = await client.receive_until("error")
    if "response_start" in types(messages):
        await client.receive_until("audio_complete")  # the failed response is closed
    return messages[-1]


async def test_a_reconnect_with_its_session_id_resumes_the_conversation(
    alice: User, sam: User, pipeline: Any
) -> None:
    session_id = "6f1c2a8e-0b7d-4c1e-9a55-3d2f8e4b7c10"
    path = f"/api/voice/ws?sessionId={session_id}"
    first = JsonVoiceClient(path=path, token=token_for(alice))
    await first.connect()
    assert (await first.receive())["sessionId"] == session_id
    await first.send({"type": "text", "text": "my name is Alice"})
    await first.receive_until("audio_complete")
    await first.close()

    again = JsonVoiceClient(path=path, token=token_for(alice))
    await again.connect()
    resumed = await again.receive()
    await again.send({"type": "text", "text": "what is my name"})
    await again.receive_until("audio_complete")
    stranger = JsonVoiceClient(path=path, token=token_for(sam))
    await stranger.connect()
    other = await stranger.receive()

    assert resumed["sessionId"] == session_id
    chat = pipeline.requests_to("chat/completions")[-1].json["messages"]
    assert {"role": "user", "content": "my name is Alice"} in chat
    assert other["sessionId"] != session_id  # someone else's session is never resumed
    turns = [t async for t in Turn.objects.filter(session_id=session_id).order_by("index")]
    assert [t.index for t in turns] == [0, 1]
    await again.close()
    await stranger.close()
