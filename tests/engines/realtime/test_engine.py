"""The ``openai-realtime`` engine, driven through the real SDK against the fake OpenAI server.

Turns, tools, configuration and barge-in here; drops, limits and odd events in
``test_realtime_engine_faults.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from itertools import groupby
from typing import Any

import numpy as np
import pytest
from openai import AsyncOpenAI

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from voice.engines.base import (
    AudioDelta,
    EngineEvent,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    SessionConfig,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    TextDone,
    ToolCall,
    ToolSpec,
    TranscriptDelta,
    TranscriptFinal,
    TurnDetection,
)
from voice.engines.realtime.engine import DEFAULT_APPEND_MS, RECONNECT, OpenAIRealtimeEngine

FAST_RETRY = replace(RECONNECT, max_attempts=3, base_delay=0.01, max_delay=0.05)
ORDER_TOOL = ToolSpec(
    "lookup_order",
    "Find an order by number",
    {"type": "object", "properties": {"order_no": {"type": "string"}}},
)
VAD = TurnDetection()  # PROTOCOL.md section 5 defaults: 0.5 / 300 / 500


class Inbox:
    """Reads an engine's events in order; waits with a timeout, never with sleeps."""

    def __init__(self, engine: OpenAIRealtimeEngine) -> None:
        self._events = aiter(engine.events())
        self.seen: list[EngineEvent] = []

    async def until(
        self, kind: type, within: float = 5.0, where: Callable[[Any], bool] = lambda e: True
    ) -> list[EngineEvent]:
        """Events up to and including the first ``kind`` that matches ``where``."""
        got: list[EngineEvent] = []
        async with asyncio.timeout(within):
            while True:
                event = await anext(self._events)
                self.seen.append(event)
                got.append(event)
                if isinstance(event, kind) and where(event):
                    return got


@asynccontextmanager
async def running(
    fake: FakeOpenAI, config: SessionConfig | None = None, *, api_key: str | None = None, **kw: Any
) -> AsyncIterator[tuple[OpenAIRealtimeEngine, Inbox]]:
    """A started engine on the fake, closed afterwards."""
    client = AsyncOpenAI(api_key=api_key or fake.api_key, base_url=fake.base_url, max_retries=0)
    kw.setdefault("retry", FAST_RETRY)
    engine = OpenAIRealtimeEngine(client, model="gpt-realtime", **kw)
    inbox = Inbox(engine)
    try:
        await engine.start(config or SessionConfig(session_id="test"))
        yield engine, inbox
    finally:
        await engine.close()


async def speak(engine: OpenAIRealtimeEngine, pcm: bytes, frame_ms: int = 20) -> None:
    """Feed audio as a transport does: one small frame at a time."""
    step = 48 * frame_ms
    for i in range(0, len(pcm), step):
        await engine.send_audio(pcm[i : i + step])


def sent(fake: FakeOpenAI, kind: str, connection: int | None = None) -> list[dict[str, Any]]:
    """Client events of one type the fake received (optionally on one socket)."""
    return [
        e.event
        for e in fake.ws_events
        if e.type == kind and (connection is None or e.connection == connection)
    ]


def shape(events: list[EngineEvent]) -> list[str]:
    """Event kinds with runs of deltas squashed, transcripts left out."""
    names = [
        "Delta" if isinstance(e, TextDelta | AudioDelta) else type(e).__name__
        for e in events
        if not isinstance(e, TranscriptDelta | TranscriptFinal)
    ]
    return [name for name, _ in groupby(names)]


def audio_of(events: list[EngineEvent]) -> bytes:
    return b"".join(e.pcm for e in events if isinstance(e, AudioDelta))


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


# ---- spoken turns -----------------------------------------------------------------------------


async def test_a_spoken_turn_by_server_vad_yields_the_turn_in_order(fake: FakeOpenAI):
    config = SessionConfig(session_id="vad", turn_detection=VAD, language="en")
    async with running(fake, config) as (engine, inbox):
        await speak(engine, tone_pcm16(600) + silence_pcm16(1000))
        events = await inbox.until(ResponseDone)

    assert shape(events) == [
        "SpeechStarted",
        "SpeechStopped",
        "ResponseStarted",
        "Delta",
        "TextDone",
        "ResponseDone",
    ]
    started, stopped = events[0], events[1]
    assert isinstance(started, SpeechStarted) and isinstance(stopped, SpeechStopped)
    assert (started.audio_start_ms, stopped.audio_end_ms) == (0, 1100)  # 600 ms + 500 ms quiet
    response_id = next(e.response_id for e in events if isinstance(e, ResponseStarted))
    done = [e for e in events if isinstance(e, TextDone | ResponseDone)]
    assert {e.response_id for e in done} == {response_id}
    assert done[0].text == "".join(e.text for e in events if isinstance(e, TextDelta))
    assert done[0].text == fake.config.reply and done[1].status == "completed"
    assert done[1].usage["output_token_details"]["audio_tokens"] > 0
    pcm = audio_of(events)
    assert len(pcm) == len(fake.config.reply) * 60 * 48  # the fake speaks 60 ms per character
    assert np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(float) ** 2)) > 1000
    names = [type(e).__name__ for e in events]
    assert names.index("TranscriptFinal") < names.index("TextDone")
    final = next(e for e in events if isinstance(e, TranscriptFinal))
    assert final.text == "hello there" and final.usage and final.usage["total_tokens"] > 0
    deltas = [e.text for e in events if isinstance(e, TranscriptDelta)]
    assert deltas == ["hello", "hello there"]  # the whole text so far, each time


async def test_an_answer_waits_for_a_late_user_transcript(fake: FakeOpenAI):
    fake.config.rt_transcription_delay_ms = 300  # well after response.done
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(300))
        await engine.commit()
        events = await inbox.until(ResponseDone)

    kinds = [type(e).__name__ for e in events if not isinstance(e, TextDelta | AudioDelta)]
    assert kinds[-3:] == ["TranscriptFinal", "TextDone", "ResponseDone"]
    assert kinds.index("TranscriptFinal") > [type(e) for e in events].index(AudioDelta)
    completed = [s for s in fake.ws_sent if "transcription.completed" in s.type]
    done = [s for s in fake.ws_sent if s.type == "response.done"]
    assert done[0].received_at < completed[0].received_at  # the fake did answer first


async def test_audio_goes_up_in_appends_of_append_ms(fake: FakeOpenAI):
    async with running(fake, append_ms=100) as (engine, inbox):
        await speak(engine, tone_pcm16(250))
        await engine.commit()
        await inbox.until(ResponseDone)

    sizes = [len(base64.b64decode(e["audio"])) for e in sent(fake, "input_audio_buffer.append")]
    assert sizes == [4800, 4800, 2400]  # two full appends, then the rest on commit


async def test_default_appends_carry_40_ms(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(200))
        await engine.commit()
        await inbox.until(ResponseDone)

    sizes = {len(base64.b64decode(e["audio"])) for e in sent(fake, "input_audio_buffer.append")}
    assert sizes == {DEFAULT_APPEND_MS * 48}


async def test_a_tts_only_voice_and_a_fast_rate_still_make_a_valid_update(fake: FakeOpenAI):
    config = SessionConfig(session_id="tts-voice", voice="nova", speed=2.5)
    async with running(fake, config):
        await fake.wait_for(lambda: any(s.type == "session.updated" for s in fake.ws_sent))

    output = sent(fake, "session.update")[0]["session"]["audio"]["output"]
    assert (output["voice"], output["speed"]) == ("alloy", 1.5)
    assert not [s for s in fake.ws_sent if s.type == "error"]


async def test_session_update_has_the_nested_ga_shape(fake: FakeOpenAI):
    config = SessionConfig(
        session_id="shape",
        instructions="Be brief.",
        voice="marin",
        language="de",
        speed=1.2,
        tools=(ORDER_TOOL,),
        turn_detection=VAD,
    )
    async with running(fake, config, transcribe_model="gpt-4o-transcribe"):
        await fake.wait_for(lambda: any(s.type == "session.updated" for s in fake.ws_sent))

    assert sent(fake, "session.update") == [
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "transcription": {"model": "gpt-4o-transcribe", "language": "de"},
                        "turn_detection": {
                            "type": "server_vad",
                            "threshold": 0.5,
                            "prefix_padding_ms": 300,
                            "silence_duration_ms": 500,
                            "create_response": True,
                            "interrupt_response": True,
                        },
                    },
                    "output": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "voice": "marin",
                        "speed": 1.2,
                    },
                },
                "tools": [ORDER_TOOL.as_openai_function()],
                "tool_choice": "auto",
            },
        }
    ]
    upgrade = fake.requests_to("realtime")[0]
    assert upgrade.query == {"model": "gpt-realtime"} and "openai-beta" not in upgrade.headers
    assert not [s for s in fake.ws_sent if s.type == "error"]


async def test_update_leaves_the_voice_out_once_audio_went_out(fake: FakeOpenAI):
    config = SessionConfig(session_id="voice", voice="coral")
    async with running(fake, config) as (engine, inbox):
        assert engine.detects_turns is False
        await engine.update(SessionConfig(session_id="voice", voice="ash", turn_detection=VAD))
        assert engine.detects_turns is True
        await engine.send_text("hi")
        await inbox.until(ResponseDone)
        await engine.update(SessionConfig(session_id="voice", voice="sage", instructions="x"))
        await fake.wait_for(
            lambda: len([s for s in fake.ws_sent if s.type.startswith("session.upd")]) == 3
        )

    updates = [e["session"] for e in sent(fake, "session.update")]
    assert [u["audio"]["output"].get("voice") for u in updates] == ["coral", "ash", None]
    assert (
        updates[2]["instructions"] == "x" and updates[2]["audio"]["input"]["turn_detection"] is None
    )
    assert not [s for s in fake.ws_sent if s.type == "error"]


async def test_push_to_talk_commit_sends_commit_then_response_create(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.clear_input()
        await speak(engine, tone_pcm16(500))
        await engine.commit()
        events = await inbox.until(ResponseDone)

    session = sent(fake, "session.update")[0]["session"]
    assert session["audio"]["input"]["turn_detection"] is None
    kinds = [e.type for e in fake.ws_events if e.type != "input_audio_buffer.append"]
    assert kinds == [
        "session.update",
        "input_audio_buffer.clear",
        "input_audio_buffer.commit",
        "response.create",
    ]
    assert shape(events) == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert [e.text for e in events if isinstance(e, TranscriptFinal)] == ["hello there"]


async def test_commit_of_under_100_ms_is_an_empty_utterance(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(60))
        await engine.commit()
        events = await inbox.until(TranscriptFinal)

    assert events == [TranscriptFinal("")]
    assert sent(fake, "input_audio_buffer.commit") == sent(fake, "response.create") == []


async def test_typed_text_is_answered_as_an_utterance(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.send_text("What is new?")
        events = await inbox.until(ResponseDone)

    assert sent(fake, "conversation.item.create") == [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What is new?"}],
            },
        }
    ]
    assert len(sent(fake, "response.create")) == 1
    assert shape(events) == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert events[-2].text == fake.config.reply and events[-1].status == "completed"


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
    kinds = [e.type for e in fake.ws_events]
    assert kinds.count("response.create") == 2  # the typed turn, then once after the output
    assert kinds.index("response.create", kinds.index("conversation.item.create", 2)) > 0


async def test_cancel_while_the_tools_run_ends_the_response_without_an_answer(fake: FakeOpenAI):
    fake.config.tool_rules = [("order", "lookup_order", {"order_no": "A17"})]
    config = SessionConfig(session_id="tools", tools=(ORDER_TOOL,))
    async with running(fake, config) as (engine, inbox):
        await engine.send_text("Where is my order?")
        call = (await inbox.until(ToolCall))[-1]
        await fake.wait_for(lambda: any(s.type == "response.done" for s in fake.ws_sent))
        await engine.cancel(played_ms=0)
        cut = await inbox.until(ResponseDone)
        await engine.submit_tool_result(call.call_id, "shipped")  # late: kept, not answered
        await engine.send_text("Never mind")
        answer = await inbox.until(ResponseDone)

    assert cut == [ResponseDone(call.response_id, status="cancelled", usage=cut[0].usage)]
    assert sent(fake, "conversation.item.truncate") == []  # no audio to cut
    assert [e.type for e in fake.ws_events].count("response.create") == 2
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
            lambda: any(s.type == "conversation.item.truncated" for s in fake.ws_sent)
        )

    response_id = heard[0].response_id
    assert rest[-1] == ResponseDone(response_id, status="cancelled", usage=rest[-1].usage)
    assert not any(isinstance(e, TextDone) for e in rest)
    assert sent(fake, "response.cancel") == [
        {"type": "response.cancel", "response_id": response_id}
    ]
    item_id = next(s.event["item_id"] for s in fake.ws_sent if s.type.endswith("audio.delta"))
    assert sent(fake, "conversation.item.truncate") == [
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 150,
        }
    ]
    assert not [s for s in fake.ws_sent if s.type == "error"]


async def test_truncation_is_clamped_to_the_audio_received(fake: FakeOpenAI):
    fake.ws_stall(0.3, after="response.output_audio.delta", nth=2)  # 200 ms arrived, then none
    async with running(fake) as (engine, inbox):
        await engine.send_text("Tell me a story")
        await inbox.until(AudioDelta)
        await inbox.until(AudioDelta)
        await engine.cancel(played_ms=60_000)
        await inbox.until(ResponseDone, where=lambda e: e.status == "cancelled")
        await fake.wait_for(
            lambda: any(s.type == "conversation.item.truncated" for s in fake.ws_sent)
        )

    assert [e["audio_end_ms"] for e in sent(fake, "conversation.item.truncate")] == [200]
    assert not [s for s in fake.ws_sent if s.type == "error"]


async def test_cancel_after_the_response_ended_only_truncates(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        await inbox.until(ResponseDone)
        await engine.cancel(played_ms=500)
        await engine.cancel(played_ms=400)  # cut once: nothing more to do
        await engine.cancel()
        await fake.wait_for(
            lambda: any(s.type == "conversation.item.truncated" for s in fake.ws_sent)
        )

    assert sent(fake, "response.cancel") == []
    assert [e["audio_end_ms"] for e in sent(fake, "conversation.item.truncate")] == [500]
    assert not [s for s in fake.ws_sent if s.type == "error"]


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
    assert not [s for s in fake.ws_sent if s.type == "error"]
    assert not [e for e in inbox.seen if isinstance(e, EngineFailure)]


async def test_close_ends_events_and_is_safe_twice(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.close()
        await engine.close()
        remaining = [event async for event in engine.events()]

    assert remaining == []
    await fake.wait_for(lambda: fake.conversation() == [])
