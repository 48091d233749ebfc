"""The fake's REST endpoints, driven by the real `openai` SDK; and the fake run as a process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import openai
import pytest
from openai import AsyncOpenAI
from websockets.exceptions import InvalidStatus

from devtools.fake_openai.audio import decoded_seconds, encode_audio, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.devtools.conftest import ORDER_TOOL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.asyncio
async def test_streamed_transcription_sends_deltas_then_done(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    wav = encode_audio(tone_pcm16(1500), "wav")

    stream = await client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("turn.wav", wav, "audio/wav"), stream=True
    )
    events = [event async for event in stream]

    assert [e.type for e in events] == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert "".join(e.delta for e in events[:-1]) == events[-1].text == "hello there"
    assert events[-1].usage.input_token_details.audio_tokens == 15
    (request,) = fake.records.requests_to("audio/transcriptions")
    assert request.audio_seconds == pytest.approx(1.5)
    assert request.form["file"].filename == "turn.wav"
    assert request.retry_count == 0


@pytest.mark.asyncio
async def test_undecodable_upload_is_an_invalid_file_format(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="Invalid file format"):
        await client.audio.transcriptions.create(
            model="whisper-1", file=("turn.webm", b"not audio at all", "audio/webm")
        )


@pytest.mark.asyncio
async def test_chat_stream_has_role_chunk_deltas_finish_usage_and_done(client: AsyncOpenAI) -> None:
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        lines = [line async for line in response.iter_lines() if line]
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]

    assert lines[-1] == "data: [DONE]"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == "Sure. Here is the answer. Anything else?"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])


@pytest.mark.asyncio
async def test_chat_tool_call_round_trip(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.config.tool_rules = [("order", "lookup_order", {"order_no": "A17"})]
    fake.config.tool_reply = "Your order is {output}."
    tools: Any = [
        {"type": "function", "function": {k: ORDER_TOOL[k] for k in ("name", "parameters")}}
    ]
    messages: list[Any] = [{"role": "user", "content": "Where is my ORDER?"}]

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=tools, stream=True
    )
    chunks = [chunk async for chunk in stream]
    call = chunks[0].choices[0].delta.tool_calls[0]
    arguments = "".join(c.choices[0].delta.tool_calls[0].function.arguments for c in chunks[:-1])
    messages += [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "shipped"},
    ]
    answer = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=tools
    )

    assert call.function.name == "lookup_order" and call.id.startswith("call_")
    assert json.loads(arguments) == {"order_no": "A17"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert answer.choices[0].message.content == "Your order is shipped."


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["mp3", "opus", "pcm"])
async def test_speech_is_real_audio_in_the_requested_format(client: AsyncOpenAI, fmt: Any) -> None:
    text = "Hello from the fake."

    async with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="coral", input=text, response_format=fmt
    ) as response:
        body = b"".join([chunk async for chunk in response.iter_bytes()])

    expected_seconds = len(text) * 0.060
    if fmt == "pcm":
        assert len(body) == pytest.approx(expected_seconds * 48_000, abs=2)
    else:
        assert decoded_seconds(body) == pytest.approx(expected_seconds, abs=0.05)
        with av.open(io.BytesIO(body)) as container:
            assert container.streams.audio[0].codec_context.name in (
                "mp3",
                "mp3float",
                "opus",
                "libopus",
            )


@pytest.mark.asyncio
async def test_first_answers_come_the_configured_latency_after_arrival(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.config.stt_delay_ms = fake.config.chat_first_token_ms = 150
    fake.config.tts_first_byte_ms = 150
    wav = encode_audio(tone_pcm16(500), "wav")

    stream = await client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("turn.wav", wav, "audio/wav"), stream=True
    )
    [event async for event in stream]
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    [chunk async for chunk in stream]
    async with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hello there.", response_format="pcm"
    ) as response:
        await response.read()

    requests = fake.records.requests
    assert [r.endpoint for r in requests] == [
        "audio/transcriptions",
        "chat/completions",
        "audio/speech",
    ]
    for request in requests:
        assert request.first_byte_at is not None
        assert request.first_byte_at - request.received_at >= 0.150


@pytest.mark.asyncio
async def test_speech_rejects_input_over_4096_characters(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="a" * 4097)

    assert raised.value.param == "input"


@pytest.mark.asyncio
async def test_bad_key_is_401_on_rest_and_on_the_websocket_upgrade(fake: FakeOpenAI) -> None:
    async with AsyncOpenAI(api_key="sk-wrong", base_url=fake.base_url, max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
        with pytest.raises(InvalidStatus) as refused:
            async with sdk.realtime.connect(model="gpt-realtime"):
                pass

    assert raised.value.code == "invalid_api_key"
    assert refused.value.response.status_code == 401
    assert [r.status for r in fake.records.requests] == [401, 401]


@pytest.mark.asyncio
async def test_429_retry_after_is_honoured_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.faults.fail("chat", 429, times=2, headers={"retry-after": "0.3"})

    async with AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url, max_retries=2) as sdk:
        answer = await sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )

    attempts = fake.records.requests_to("chat/completions")
    assert answer.choices[0].message.content == fake.config.reply
    assert [r.status for r in attempts] == [429, 429, 200]
    assert [r.retry_count for r in attempts] == [0, 1, 2]
    gaps = [b.received_at - a.received_at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert min(gaps) >= 0.3


@pytest.mark.asyncio
async def test_insufficient_quota_is_a_rate_limit_error_with_its_code(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.faults.fail("speech", 429, body_code="insufficient_quota")

    with pytest.raises(openai.RateLimitError) as raised:
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="hi")

    assert raised.value.code == "insufficient_quota"
    assert raised.value.response.headers["x-ratelimit-remaining-requests"] == "0"


@pytest.mark.asyncio
async def test_cut_stream_raises_api_connection_error(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.faults.cut_stream("chat", after=2)

    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk)

    assert len(received) == 2


@pytest.mark.asyncio
async def test_sse_error_raises_api_error(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.faults.sse_error("chat", after=1, message="boom")

    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError, match="boom"):
        async for _ in stream:
            pass


def test_module_entry_point_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.fake_openai",
            "--port",
            "0",
            "--stt-delay-ms",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip() if process.stdout else ""
        client = openai.OpenAI(api_key="sk-test", base_url=base_url, max_retries=0)
        answer = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    assert answer.choices[0].message.content == "Sure. Here is the answer. Anything else?"
    assert process.returncode == 0
