"""Typed turns on the openai-pipeline engine: the reply, early audio, tools and barge-in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.transports.json_socket.client import JsonVoiceClient, types

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_typed_turn_is_answered_like_speech(client: JsonVoiceClient, pipeline: Any) -> None:
    await client.send({"type": "text", "text": "hello"})

    messages = await client.receive_until("audio_complete")

    kinds = types(messages)
    assert kinds[0] == "response_start"
    assert "transcription_final" not in kinds
    assert kinds.index("response_complete") > kinds.index("response_chunk")
    chat = [r for r in pipeline.records.requests if r.endpoint == "chat/completions"][-1]
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
    speech = [r for r in pipeline.records.requests if r.endpoint == "audio/speech"]
    assert [r.json["input"] for r in speech] == [
        "We open at nine.",
        "We close at five.",
        "Is there anything else?",
    ]


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
    chats = [r for r in pipeline.records.requests if r.endpoint == "chat/completions"]
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
