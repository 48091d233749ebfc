"""Turns on the fake's Realtime socket, driven by the real `openai` SDK: speech, tools, faults."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from devtools.fake_openai.vad import EnergyVad
from tests.devtools.conftest import ORDER_TOOL, events_until, speak, without_deltas

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


@pytest.mark.asyncio
async def test_spoken_turn_by_energy_vad_follows_the_ga_order(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
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
async def test_function_call_round_trip(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
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
) -> None:
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
async def test_abrupt_drop_is_a_close_without_a_frame(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.faults.ws_drop(after="session.created")

    async with client.realtime.connect(model="gpt-realtime") as conn:
        created = await conn.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert created.type == "session.created"
    assert closed.value.rcvd is None  # 1006: no close frame


@pytest.mark.asyncio
async def test_scripted_close_1012_is_reconnected_by_the_sdk_into_a_fresh_session(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.faults.ws_close(1012, "service restart", after="session.created")
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
    assert {
        e.connection for e in fake.records.ws_events if e.type == "conversation.item.create"
    } == {1}


@pytest.mark.asyncio
async def test_injected_faults_mid_response(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.faults.ws_beta_names(after="response.created")
    fake.faults.ws_error(after="response.output_audio.delta", nth=2, message="hiccup")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await speak(conn, tone_pcm16(300) + silence_pcm16(300))
        events = await events_until(conn, "rate_limits.updated")
        fake.faults.fail_response(code="rate_limit_exceeded", type_="requests")
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
) -> None:
    fake.config.session_max_seconds = 0.2

    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        expired = await events_until(conn, "error")
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert expired[-1].error.code == "session_expired"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_vad_threshold_tells_a_tone_from_low_noise() -> None:
    noise = (np.random.default_rng(1).normal(0, 50, 24_000)).astype("<i2").tobytes()
    vad = EnergyVad(0.5, 200, 48, "audio/pcm", 0)

    assert vad.feed(noise) == []
    assert [e.kind for e in vad.feed(tone_pcm16(200) + silence_pcm16(300))] == ["start", "stop"]
