"""The ``openai-realtime`` engine's tool rounds and barge-in, against the fake OpenAI server."""

from __future__ import annotations

import json

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.engines.realtime import (
    ORDER_TOOL,
    VAD,
    audio_of,
    running,
    sent,
    shape,
    speak,
)
from voice.engines.base import (
    AudioDelta,
    EngineFailure,
    ResponseDone,
    SessionConfig,
    SpeechStarted,
    TextDone,
    ToolCall,
)

# ---- tools ------------------------------------------------------------------------------------


async def test_a_tool_call_round_trip_is_one_response(fake: FakeOpenAI):
    fake.config.tool_rules = [("order", "lookup_order", {"order_no": "A17"})]
    fake.config.tool_reply = "Your order has {output}."
    config = SessionConfig(session_id="tools", tools=(ORDER_TOOL,))
    async with running(fake, config) as (engine, inbox):
        await engine.send_text("Where is my order?")
        first = await inbox.until(ToolCall)
        call = first[-1]
        await engine.submit_tool_result(call.call_id, "shipped")
        rest = await inbox.until(ResponseDone)

    events = first + rest
    assert isinstance(call, ToolCall) and call.name == "lookup_order"
    assert json.loads(call.arguments) == {"order_no": "A17"}
    assert shape(events) == ["ResponseStarted", "ToolCall", "Delta", "TextDone", "ResponseDone"]
    assert {getattr(e, "response_id", call.response_id) for e in events} == {call.response_id}
    assert rest[-2].text == "Your order has shipped." and rest[-1].status == "completed"
    assert audio_of(rest)
    outputs = [e["item"] for e in sent(fake, "conversation.item.create")][1:]
    assert outputs == [
        {"type": "function_call_output", "call_id": call.call_id, "output": "shipped"}
    ]
    kinds = [e.type for e in fake.records.ws_events]
    assert kinds.count("response.create") == 2  # the typed turn, then once after the output
    assert kinds.index("response.create", kinds.index("conversation.item.create", 2)) > 0


async def test_cancel_while_the_tools_run_ends_the_response_without_an_answer(fake: FakeOpenAI):
    fake.config.tool_rules = [("order", "lookup_order", {"order_no": "A17"})]
    config = SessionConfig(session_id="tools", tools=(ORDER_TOOL,))
    async with running(fake, config) as (engine, inbox):
        await engine.send_text("Where is my order?")
        call = (await inbox.until(ToolCall))[-1]
        await fake.wait_for(lambda: any(s.type == "response.done" for s in fake.records.ws_sent))
        await engine.cancel(played_ms=0)
        cut = await inbox.until(ResponseDone)
        await engine.submit_tool_result(call.call_id, "shipped")  # late: kept, not answered
        await engine.send_text("Never mind")
        answer = await inbox.until(ResponseDone)

    assert cut == [ResponseDone(call.response_id, status="cancelled", usage=cut[0].usage)]
    assert sent(fake, "conversation.item.truncate") == []  # no audio to cut
    assert [e.type for e in fake.records.ws_events].count("response.create") == 2
    assert answer[-1].status == "completed" and answer[-2].text == fake.config.reply


# ---- barge-in ---------------------------------------------------------------------------------


async def test_barge_in_cancels_the_response_and_truncates_to_the_played_audio(fake: FakeOpenAI):
    fake.config.rt_delta_interval_ms = 40  # 100 ms of audio per 40 ms: still running when cut
    async with running(fake) as (engine, inbox):
        await engine.send_text("Tell me a story")
        heard = await inbox.until(AudioDelta)
        heard += await inbox.until(AudioDelta)
        await engine.cancel(played_ms=150)
        rest = await inbox.until(ResponseDone)
        await fake.wait_for(
            lambda: any(s.type == "conversation.item.truncated" for s in fake.records.ws_sent)
        )

    response_id = heard[0].response_id
    assert rest[-1] == ResponseDone(response_id, status="cancelled", usage=rest[-1].usage)
    assert not any(isinstance(e, TextDone) for e in rest)
    assert sent(fake, "response.cancel") == [
        {"type": "response.cancel", "response_id": response_id}
    ]
    item_id = next(
        s.event["item_id"] for s in fake.records.ws_sent if s.type.endswith("audio.delta")
    )
    assert sent(fake, "conversation.item.truncate") == [
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 150,
        }
    ]
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_truncation_is_clamped_to_the_audio_received(fake: FakeOpenAI):
    fake.faults.ws_stall(
        0.3, after="response.output_audio.delta", nth=2
    )  # 200 ms arrived, then none
    async with running(fake) as (engine, inbox):
        await engine.send_text("Tell me a story")
        await inbox.until(AudioDelta)
        await inbox.until(AudioDelta)
        await engine.cancel(played_ms=60_000)
        await inbox.until(ResponseDone, where=lambda e: e.status == "cancelled")
        await fake.wait_for(
            lambda: any(s.type == "conversation.item.truncated" for s in fake.records.ws_sent)
        )

    assert [e["audio_end_ms"] for e in sent(fake, "conversation.item.truncate")] == [200]
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_cancel_after_the_response_ended_only_truncates(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        await inbox.until(ResponseDone)
        await engine.cancel(played_ms=500)
        await engine.cancel(played_ms=400)  # cut once: nothing more to do
        await engine.cancel()
        await fake.wait_for(
            lambda: any(s.type == "conversation.item.truncated" for s in fake.records.ws_sent)
        )

    assert sent(fake, "response.cancel") == []
    assert [e["audio_end_ms"] for e in sent(fake, "conversation.item.truncate")] == [500]
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_speech_during_a_response_is_interrupted_by_the_server(fake: FakeOpenAI):
    fake.config.rt_delta_interval_ms = 40
    config = SessionConfig(session_id="interrupt", turn_detection=VAD)
    async with running(fake, config) as (engine, inbox):
        await engine.send_text("Tell me a story")
        first = await inbox.until(AudioDelta)
        await speak(engine, tone_pcm16(300))
        await inbox.until(SpeechStarted)
        await engine.cancel(played_ms=50)  # what the session does on SpeechStarted
        cut = await inbox.until(ResponseDone)
        await speak(engine, silence_pcm16(700))
        answer = await inbox.until(ResponseDone)

    assert cut[-1].response_id == first[0].response_id and cut[-1].status == "cancelled"
    assert sent(fake, "response.cancel") == []  # interrupt_response did it upstream
    assert [e["audio_end_ms"] for e in sent(fake, "conversation.item.truncate")] == [50]
    assert shape(answer) == [
        "SpeechStopped",
        "ResponseStarted",
        "Delta",
        "TextDone",
        "ResponseDone",
    ]
    assert answer[-1].status == "completed"
    assert not [s for s in fake.records.ws_sent if s.type == "error"]
    assert not [e for e in inbox.seen if isinstance(e, EngineFailure)]


async def test_close_ends_events_and_is_safe_twice(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.close()
        await engine.close()
        remaining = [event async for event in engine.events()]

    assert remaining == []
    await fake.wait_for(lambda: fake.conversation() == [])
