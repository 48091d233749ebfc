"""The fake OpenAI server, driven by the real `openai` SDK (REST and Realtime)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import openai
import pytest
import pytest_asyncio
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devtools.fake_openai.audio import decoded_seconds, encode_audio, silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from devtools.fake_openai.vad import EnergyVad

ROOT = Path(__file__).resolve().parents[2]
ORDER_TOOL = {
    "type": "function",
    "name": "lookup_order",
    "description": "Find an order by number",
    "parameters": {"type": "object", "properties": {"order_no": {"type": "string"}}},
}
SPOKEN_TURN_ORDER = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]
CLOSE_OUT_ORDER = SPOKEN_TURN_ORDER[9:]  # output_audio.done ... rate_limits.updated


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url, max_retries=0) as sdk:
        yield sdk


async def events_until(conn: Any, last_type: str, within: float = 5.0) -> list[Any]:
    """Receive server events up to and including the first of type `last_type`."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            seen.append(await conn.recv())
            if seen[-1].type == last_type:
                return seen


async def speak(conn: Any, pcm: bytes, chunk_ms: int = 100) -> None:
    """Append PCM16 24 kHz audio in chunks, as a client streaming a microphone would."""
    step = 48 * chunk_ms
    for i in range(0, len(pcm), step):
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + step]).decode())


def without_deltas(events: list[Any]) -> list[str]:
    return [e.type for e in events if not e.type.endswith(".delta")]


# --- REST --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_streamed_transcription_sends_deltas_then_done(fake: FakeOpenAI, client: AsyncOpenAI):
    wav = encode_audio(tone_pcm16(1500), "wav")

    stream = await client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("turn.wav", wav, "audio/wav"), stream=True
    )
    events = [event async for event in stream]

    assert [e.type for e in events] == ["transcript.text.delta"] * 2 + ["transcript.text.done"]
    assert "".join(e.delta for e in events[:-1]) == events[-1].text == "hello there"
    assert events[-1].usage.input_token_details.audio_tokens == 15
    (request,) = fake.requests_to("audio/transcriptions")
    assert request.audio_seconds == pytest.approx(1.5)
    assert request.form["file"].filename == "turn.wav"
    assert request.retry_count == 0


@pytest.mark.asyncio
async def test_undecodable_upload_is_an_invalid_file_format(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError, match="Invalid file format"):
        await client.audio.transcriptions.create(
            model="whisper-1", file=("turn.webm", b"not audio at all", "audio/webm")
        )


@pytest.mark.asyncio
async def test_chat_stream_has_role_chunk_deltas_finish_usage_and_done(client: AsyncOpenAI):
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
async def test_chat_tool_call_round_trip(fake: FakeOpenAI, client: AsyncOpenAI):
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
async def test_speech_is_real_audio_in_the_requested_format(client: AsyncOpenAI, fmt: Any):
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
):
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

    requests = fake.requests
    assert [r.endpoint for r in requests] == [
        "audio/transcriptions",
        "chat/completions",
        "audio/speech",
    ]
    for request in requests:
        assert request.first_byte_at is not None
        assert request.first_byte_at - request.received_at >= 0.150


@pytest.mark.asyncio
async def test_speech_rejects_input_over_4096_characters(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as raised:
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="a" * 4097)

    assert raised.value.param == "input"


@pytest.mark.asyncio
async def test_client_secret_opens_a_realtime_socket_with_its_session(
    client: AsyncOpenAI, fake: FakeOpenAI
):
    secret = await client.realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60},
        session={
            "type": "realtime",
            "instructions": "Be brief.",
            "audio": {"output": {"voice": "marin"}},
        },
    )

    async with AsyncOpenAI(api_key=secret.value, base_url=fake.base_url) as browser:
        async with browser.realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()

    assert secret.value.startswith("ek_") and secret.session.audio.output.voice == "marin"
    assert created.session.instructions == "Be brief."
    assert created.session.audio.input.turn_detection.silence_duration_ms == 200
    with pytest.raises(openai.AuthenticationError):  # ephemeral keys are for Realtime only
        async with AsyncOpenAI(
            api_key=secret.value, base_url=fake.base_url, max_retries=0
        ) as other:
            await other.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )


@pytest.mark.asyncio
async def test_client_secret_ttl_outside_10_to_7200_is_rejected(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as raised:
        await client.realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": 5}
        )

    assert raised.value.param == "expires_after.seconds"


@pytest.mark.asyncio
async def test_bad_key_is_401_on_rest_and_on_the_websocket_upgrade(fake: FakeOpenAI):
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
    assert [r.status for r in fake.requests] == [401, 401]


@pytest.mark.asyncio
async def test_429_retry_after_is_honoured_by_the_sdk(fake: FakeOpenAI):
    fake.fail("chat", 429, times=2, headers={"retry-after": "0.3"})

    async with AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url, max_retries=2) as sdk:
        answer = await sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )

    attempts = fake.requests_to("chat/completions")
    assert answer.choices[0].message.content == fake.config.reply
    assert [r.status for r in attempts] == [429, 429, 200]
    assert [r.retry_count for r in attempts] == [0, 1, 2]
    gaps = [b.received_at - a.received_at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert min(gaps) >= 0.3


@pytest.mark.asyncio
async def test_insufficient_quota_is_a_rate_limit_error_with_its_code(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    fake.fail("speech", 429, body_code="insufficient_quota")

    with pytest.raises(openai.RateLimitError) as raised:
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="hi")

    assert raised.value.code == "insufficient_quota"
    assert raised.value.response.headers["x-ratelimit-remaining-requests"] == "0"


@pytest.mark.asyncio
async def test_cut_stream_raises_api_connection_error(fake: FakeOpenAI, client: AsyncOpenAI):
    fake.cut_stream("chat", after=2)

    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk)

    assert len(received) == 2


@pytest.mark.asyncio
async def test_sse_error_raises_api_error(fake: FakeOpenAI, client: AsyncOpenAI):
    fake.sse_error("chat", after=1, message="boom")

    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError, match="boom"):
        async for _ in stream:
            pass


# --- Realtime ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_session_update_merges_partially(client: AsyncOpenAI):
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.session.update(
            session={
                "type": "realtime",
                "instructions": "Terse.",
                "audio": {
                    "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}
                },
            }
        )
        updated = await conn.recv()

    assert updated.type == "session.updated"
    assert updated.session.instructions == "Terse."
    assert updated.session.audio.output.voice == "alloy"
    assert updated.session.audio.input.turn_detection.silence_duration_ms == 500
    assert updated.session.audio.input.turn_detection.threshold == 0.5


@pytest.mark.asyncio
async def test_unknown_session_field_is_rejected_with_param_and_event_id(client: AsyncOpenAI):
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.send(
            {
                "type": "session.update",
                "event_id": "client-7",
                "session": {"type": "realtime", "temperature": 0.8},
            }
        )
        error = await conn.recv()
        await conn.send({"type": "session.update", "session": {"instructions": "x"}})
        missing = await conn.recv()

    assert error.type == "error" and error.error.code == "unknown_parameter"
    assert error.error.param == "session.temperature" and error.error.event_id == "client-7"
    assert (
        missing.error.code == "missing_required_parameter" and missing.error.param == "session.type"
    )


@pytest.mark.asyncio
async def test_spoken_turn_by_energy_vad_follows_the_ga_order(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    fake.config.transcript = "what time is it"
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        transcription = {"transcription": {"model": "gpt-4o-mini-transcribe"}}
        await conn.session.update(session={"type": "realtime", "audio": {"input": transcription}})
        await conn.recv()

        await speak(conn, silence_pcm16(600) + tone_pcm16(500) + silence_pcm16(800), chunk_ms=20)
        events = await events_until(conn, "rate_limits.updated")
        if not any(e.type.endswith("transcription.completed") for e in events):
            events += await events_until(
                conn, "conversation.item.input_audio_transcription.completed"
            )

    transcript_events = [e for e in events if "input_audio_transcription" in e.type]
    turn = [e for e in events if e not in transcript_events]
    started, stopped = turn[0], turn[1]
    assert without_deltas(turn) == SPOKEN_TURN_ORDER
    assert (started.audio_start_ms, stopped.audio_end_ms) == (300, 1300)  # 600-300 pad; 1100+200
    assert started.item_id == stopped.item_id == turn[2].item_id
    deltas = [e for e in turn if e.type.endswith(".delta")]
    assert deltas[0].type == "response.output_audio_transcript.delta"  # the text runs ahead
    audio = b"".join(
        base64.b64decode(e.delta) for e in deltas if e.type == "response.output_audio.delta"
    )
    assert len(audio) == len(fake.config.reply) * 60 * 48
    done = turn[-2].response
    assert done.status == "completed" and done.output[0].content[0].transcript == fake.config.reply
    assert done.usage.output_token_details.audio_tokens > 0
    assert {e.item_id for e in deltas} == {done.output[0].id}
    assert transcript_events[-1].transcript == "what time is it"
    assert transcript_events[-1].item_id == started.item_id


@pytest.mark.asyncio
async def test_function_call_round_trip(fake: FakeOpenAI, client: AsyncOpenAI):
    fake.config.tool_rules = [("order", "lookup_order", {"order_no": "A17"})]
    fake.config.tool_reply = "It has {output}."
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.session.update(
            session={"type": "realtime", "tools": [ORDER_TOOL], "output_modalities": ["text"]}
        )
        await conn.recv()
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Where is my order?"}],
            }
        )
        await events_until(conn, "conversation.item.done")
        await conn.response.create()
        first = await events_until(conn, "rate_limits.updated")
        call = first[-2].response.output[0]
        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": "shipped"}
        )
        output_item = await events_until(conn, "conversation.item.done")
        await conn.response.create()
        second = await events_until(conn, "response.done")

    assert call.type == "function_call" and call.name == "lookup_order"
    assert json.loads(call.arguments) == {"order_no": "A17"}
    assert [e for e in first if e.type == "response.function_call_arguments.done"][
        0
    ].name == "lookup_order"
    assert [e.type for e in output_item] == ["conversation.item.added", "conversation.item.done"]
    assert second[-1].response.output[0].content[0].text == "It has shipped."


@pytest.mark.asyncio
async def test_barge_in_cancels_the_response_and_truncate_checks_produced_audio(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    fake.config.rt_delta_interval_ms = 40  # ~2.5x realtime, so the answer is still running
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await speak(conn, tone_pcm16(500) + silence_pcm16(300))
        first_audio = await events_until(conn, "response.output_audio.delta")
        answer_id = first_audio[-1].item_id

        await speak(conn, tone_pcm16(300))
        barge = await events_until(conn, "rate_limits.updated")
        await conn.conversation.item.truncate(item_id=answer_id, content_index=0, audio_end_ms=100)
        truncated = await conn.recv()
        await conn.conversation.item.truncate(
            item_id=answer_id, content_index=0, audio_end_ms=99_999
        )
        too_long = await conn.recv()
        await conn.response.cancel()
        not_active = await conn.recv()
        fake.config.rt_delta_interval_ms = 0
        await speak(conn, silence_pcm16(300))
        next_turn = await events_until(conn, "response.done")

    assert barge[0].type == "input_audio_buffer.speech_started"
    assert without_deltas(barge[1:]) == CLOSE_OUT_ORDER
    cancelled = barge[-2].response
    assert cancelled.status == "cancelled" and cancelled.status_details.reason == "turn_detected"
    assert cancelled.output[0].status == "incomplete"
    assert (truncated.type, truncated.item_id, truncated.audio_end_ms) == (
        "conversation.item.truncated",
        answer_id,
        100,
    )
    assert too_long.type == "error" and "is already shorter than 99999ms" in too_long.error.message
    assert not_active.error.code == "response_cancel_not_active"
    assert next_turn[0].type == "input_audio_buffer.speech_stopped"
    assert next_turn[0].item_id == barge[0].item_id
    assert next_turn[-1].response.status == "completed"


@pytest.mark.asyncio
async def test_manual_mode_commit_needs_100ms_and_one_response_at_a_time(client: AsyncOpenAI):
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.session.update(
            session={"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        )
        await conn.recv()
        await speak(conn, tone_pcm16(60))
        await conn.input_audio_buffer.commit()
        too_short = await conn.recv()
        await speak(conn, tone_pcm16(60))
        await conn.input_audio_buffer.commit()
        committed = await events_until(conn, "conversation.item.done")
        await conn.response.create()
        await conn.response.create()
        events = await events_until(conn, "response.done")

    assert too_short.error.code == "input_audio_buffer_commit_empty"
    assert [e.type for e in committed][0] == "input_audio_buffer.committed"
    errors = [e for e in events if e.type == "error"]
    assert [e.error.code for e in errors] == ["conversation_already_has_active_response"]
    assert events[-1].response.status == "completed"


@pytest.mark.asyncio
async def test_items_are_inserted_retrieved_and_deleted_by_id(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    def text_item(text: str) -> Any:
        return {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }

    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.conversation.item.create(item=text_item("first"))
        first = (await events_until(conn, "conversation.item.done"))[-1].item
        await conn.conversation.item.create(item=text_item("zeroth"), previous_item_id="root")
        zeroth = await events_until(conn, "conversation.item.done")
        await conn.conversation.item.retrieve(item_id=first.id)
        retrieved = await conn.recv()
        await conn.conversation.item.delete(item_id=first.id)
        deleted = await conn.recv()
        await conn.conversation.item.retrieve(item_id=first.id, event_id="client-9")
        unknown = await conn.recv()
        await conn.conversation.item.truncate(
            item_id=zeroth[-1].item.id, content_index=0, audio_end_ms=0
        )
        not_audio = await conn.recv()

    assert zeroth[0].previous_item_id is None
    assert retrieved.item.content[0].text == "first"
    assert (deleted.type, deleted.item_id) == ("conversation.item.deleted", first.id)
    assert unknown.error.param == "item_id" and unknown.error.event_id == "client-9"
    assert not_audio.error.message == "Only model output audio messages can be truncated"
    assert [item["content"][0]["text"] for item in fake.conversation()] == ["zeroth"]


@pytest.mark.asyncio
async def test_beta_header_gets_an_error_then_close_4000(client: AsyncOpenAI):
    async with client.realtime.connect(
        model="gpt-realtime", extra_headers={"OpenAI-Beta": "realtime=v1"}
    ) as conn:
        error = await conn.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert error.error.code == "beta_api_shape_disabled"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


@pytest.mark.asyncio
async def test_abrupt_drop_is_a_close_without_a_frame(fake: FakeOpenAI, client: AsyncOpenAI):
    fake.ws_drop(after="session.created")

    async with client.realtime.connect(model="gpt-realtime") as conn:
        created = await conn.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert created.type == "session.created"
    assert closed.value.rcvd is None  # 1006: no close frame


@pytest.mark.asyncio
async def test_scripted_close_1012_is_reconnected_by_the_sdk_into_a_fresh_session(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    fake.ws_close(1012, "service restart", after="session.created")
    codes: list[int] = []

    async with client.realtime.connect(
        model="gpt-realtime", on_reconnecting=lambda event: codes.append(event.close_code)
    ) as conn:
        sessions = []
        async for event in conn:
            sessions.append(event.session.id)
            if len(sessions) == 2:
                break
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "again"}],
        }
        await conn.conversation.item.create(item=item)
        await events_until(conn, "conversation.item.done")

    assert codes == [1012] and sessions[0] != sessions[1]
    assert fake.conversation(0) == [] and fake.conversation(1)[0]["content"][0]["text"] == "again"
    assert {e.connection for e in fake.ws_events if e.type == "conversation.item.create"} == {1}


@pytest.mark.asyncio
async def test_injected_faults_mid_response(fake: FakeOpenAI, client: AsyncOpenAI):
    fake.ws_beta_names(after="response.created")
    fake.ws_error(after="response.output_audio.delta", nth=2, message="hiccup")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await speak(conn, tone_pcm16(300) + silence_pcm16(300))
        events = await events_until(conn, "rate_limits.updated")
        fake.fail_response(code="rate_limit_exceeded", type_="requests")
        await conn.response.create()
        failed = await events_until(conn, "response.done")

    types = [e.type for e in events]
    assert "response.audio.delta" in types and "response.output_audio.delta" not in types
    assert [e.error.message for e in events if e.type == "error"] == ["hiccup"]
    assert failed[-1].response.status == "failed"
    assert failed[-1].response.status_details.error.code == "rate_limit_exceeded"


@pytest.mark.asyncio
async def test_session_expiry_sends_session_expired_then_closes(
    fake: FakeOpenAI, client: AsyncOpenAI
):
    fake.config.session_max_seconds = 0.2

    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        expired = await events_until(conn, "error")
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert expired[-1].error.code == "session_expired"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_module_entry_point_serves_until_terminated():
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


def test_vad_threshold_tells_a_tone_from_low_noise():
    noise = (np.random.default_rng(1).normal(0, 50, 24_000)).astype("<i2").tobytes()
    vad = EnergyVad(0.5, 200, 48, "audio/pcm", 0)

    assert vad.feed(noise) == []
    assert [e.kind for e in vad.feed(tone_pcm16(200) + silence_pcm16(300))] == ["start", "stop"]
