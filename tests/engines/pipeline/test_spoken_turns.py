"""Spoken turns over /api/voice/ws on the openai-pipeline engine, against the fake.

The client is written from PROTOCOL.md section 2; the engine runs the real openai SDK against
the local fake of OpenAI. Each audio format in and out, partial transcripts, and a second
utterance while the first is transcribed.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.audio_samples import (
    chunks,
    decode_file,
    decode_opus_packets,
    opus_packets,
    tone,
    webm_opus,
)
from tests.engines.pipeline.speech import assert_turn_order, audio_bytes, speak
from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = pytest.mark.django_db(transaction=True)


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
    uploads = [r for r in pipeline.records.requests if r.endpoint == "audio/transcriptions"]
    assert 1.9 < sum(r.audio_seconds for r in uploads) < 2.2


async def test_opus_packets_in_and_opus_packets_out(client: JsonVoiceClient) -> None:
    await client.send(
        {"type": "config", "settings": {"audioFormat": "opus", "outputFormat": "opus"}}
    )

    messages = await speak(client, opus_packets(tone(1.5)))

    assert_turn_order(messages)
    assert decode_opus_packets([p for p in audio_bytes(messages) if p]) > 0.5


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
    uploads = [r for r in pipeline.records.requests if r.endpoint == "audio/transcriptions"]
    assert partials and all(0 <= m["confidence"] <= 1 for m in partials)
    assert len(uploads) >= 4
    assert 4.4 < sum(r.audio_seconds for r in uploads) < 4.7  # each second uploaded once
    # Each segment is transcribed on its own (the fake says the whole sentence every time).
    assert final["text"] == " ".join(["what are your opening hours"] * len(uploads))


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
