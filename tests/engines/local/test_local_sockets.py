"""With no API key, the local engine holds a spoken conversation on both sockets, tools included."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import chunks, silence
from tests.conftest import token_for
from tests.engines.local import utterance
from tests.transports.json_socket.client import JsonVoiceClient, types
from tests.transports.stream_socket.client import StreamVoiceClient
from voice.models import SitePage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def offline(settings: Any, db: None) -> None:
    settings.OPENAI_API_KEY = ""
    settings.VOICE_ENGINE = "local"
    SitePage.objects.create(slug="pricing", title="Pricing", path="/pricing", topics="plans")


async def test_a_spoken_turn_on_the_stream_socket_navigates(alice: User) -> None:
    client = StreamVoiceClient(token=token_for(alice))
    await client.connect()
    await client.receive_json()
    await client.control("voice_start", sampleRate=24000, codec="pcm16")
    await client.receive_json()

    for frame in chunks(utterance("take me to the pricing page") + silence(1.0), 960):
        await client.frame(frame)
    seen = await client.receive_until("audio_response", within=30, final=True)

    texts = [m for m in seen if isinstance(m, dict)]
    kinds = [m["type"] for m in texts]
    assert "vad" in kinds and "user_transcript" in kinds
    navigation = next(m for m in texts if m["type"] == "navigation")
    assert navigation["data"] == "/pricing"
    assert sum(len(m) for m in seen if isinstance(m, bytes)) > 24000
    await client.close()


async def test_typed_and_spoken_turns_on_the_json_socket(alice: User) -> None:
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    await client.receive()
    await client.send(
        {"type": "config", "settings": {"audioFormat": "pcm16", "outputFormat": "pcm16"}}
    )

    await client.send({"type": "text", "text": "take me to the pricing page"})
    typed = await client.receive_until("audio_complete", within=30)
    await client.send({"type": "start_listening"})
    for chunk in chunks(utterance("what can you do"), 4800):
        await client.send_audio(chunk)
    await client.send({"type": "stop_listening"})
    spoken = await client.receive_until("audio_complete", within=30)

    assert {"type": "navigation", "page": "pricing", "path": "/pricing"} in typed
    assert "response_complete" in types(typed)
    assert types(spoken)[0] in {"transcription_partial", "transcription_final"}
    assert "transcription_final" in types(spoken) and "response_complete" in types(spoken)
    await client.close()
