"""Speaking a turn over /api/voice/ws and reading the answer back, for the pipeline tests."""

from __future__ import annotations

import base64

from tests.transports.json_socket.client import JsonVoiceClient, types


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
