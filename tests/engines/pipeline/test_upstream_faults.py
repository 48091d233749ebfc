"""Upstream faults on the openai-pipeline engine: an `upstream` error, then a working turn."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.audio_samples import chunks, tone
from tests.engines.pipeline.speech import speak
from tests.transports.json_socket.client import JsonVoiceClient, types

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_upstream_failure_is_reported_and_the_next_turn_works(
    client: JsonVoiceClient, pipeline: Any
) -> None:
    pipeline.faults.fail("chat", 500, times=2)  # the first attempt and its one retry

    await client.send({"type": "text", "text": "hello"})
    failed = await client.receive_until("audio_complete")
    await client.send({"type": "text", "text": "hello again"})
    recovered = await client.receive_until("audio_complete")

    error = next(m for m in failed if m["type"] == "error")
    assert types(failed) == ["response_start", "error", "audio_complete"]
    assert error["code"] == "upstream"
    assert "sk-test" not in error["message"]
    assert "response_complete" in types(recovered)


@pytest.mark.parametrize(
    "fault",
    [
        lambda fake: fake.faults.fail("transcriptions", 500, times=2),
        lambda fake: fake.faults.cut_stream("transcriptions"),
        lambda fake: fake.faults.sse_error("chat"),
        lambda fake: fake.faults.cut_stream("chat"),
        lambda fake: fake.faults.fail("speech", 429, times=9, headers={"retry-after-ms": "10"}),
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
