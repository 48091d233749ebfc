"""What the openai-pipeline engine leaves in the database: turns, their stages, sessions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import chunks, tone
from tests.conftest import token_for
from tests.engines.pipeline.speech import speak
from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import Turn, VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)


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
    chat = pipeline.records.requests_to("chat/completions")[-1].json["messages"]
    assert {"role": "user", "content": "my name is Alice"} in chat
    assert other["sessionId"] != session_id  # someone else's session is never resumed
    turns = [t async for t in Turn.objects.filter(session_id=session_id).order_by("index")]
    assert [t.index for t in turns] == [0, 1]
    await again.close()
    await stranger.close()
