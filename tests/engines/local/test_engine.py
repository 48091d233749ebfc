"""The local engine end to end, through its public interface only."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from tests.engines.local import (
    EVENT_TIMEOUT,
    HINTS,
    collect_until,
    utterance,
    word_overlap,
)
from voice.engines.base import (
    AudioDelta,
    Engine,
    EngineEvent,
    ResponseDone,
    SessionConfig,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    TextDone,
    ToolCall,
    TranscriptDelta,
    TranscriptFinal,
    TurnDetection,
)
from voice.engines.local.audio import silence
from voice.engines.local.engine import LocalEngine
from voice.engines.local.tts import get_synthesizer

Started = Callable[..., Awaitable[tuple[LocalEngine, AsyncIterator[EngineEvent]]]]


class GatedSynthesizer:
    """The real synthesizer, except that the second sentence waits for ``gate``."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0

    def synthesize(self, text: str, voice: str, speed: float) -> bytes:
        self.calls += 1
        if self.calls > 1:
            self.gate.wait(EVENT_TIMEOUT)
        return get_synthesizer().synthesize(text, voice, speed)


@pytest_asyncio.fixture
async def started() -> AsyncIterator[Started]:
    """Starts engines (server VAD on unless told otherwise) and closes them afterwards."""
    engines: list[LocalEngine] = []

    async def start(turns: bool = True, **options: Any) -> tuple[LocalEngine, Any]:
        engine = LocalEngine(**options)
        turn = TurnDetection() if turns else None
        await engine.start(SessionConfig(session_id="t", turn_detection=turn, hints=HINTS))
        engines.append(engine)
        return engine, engine.events()

    yield start
    for engine in engines:
        await engine.close()


async def say(engine: LocalEngine, text: str) -> None:
    audio = utterance(text) + silence(700)  # then enough silence to end the turn
    for offset in range(0, len(audio), 960):  # 20 ms chunks, as a client sends them
        await engine.send_audio(audio[offset : offset + 960])


def done(event: EngineEvent) -> bool:
    return isinstance(event, ResponseDone)


def kinds(events: list[EngineEvent]) -> list[str]:
    """Event type names with runs collapsed: [A, B, B, C] -> [A, B, C]."""
    names = [type(e).__name__ for e in events]
    return [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]


@pytest.mark.asyncio
async def test_it_implements_the_engine_protocol(started: Started) -> None:
    engine, _ = await started()

    assert isinstance(engine, Engine)
    assert engine.name == "local" and engine.detects_turns


@pytest.mark.asyncio
async def test_a_spoken_turn_yields_events_in_order(started: Started) -> None:
    engine, events = await started()

    await say(engine, "what can you do")
    seen = await collect_until(events, done)

    assert kinds([e for e in seen if not isinstance(e, TranscriptDelta)]) == [
        "SpeechStarted", "SpeechStopped", "TranscriptFinal", "ResponseStarted",
        "TextDelta", "TextDone", "AudioDelta", "ResponseDone",
    ]  # fmt: skip
    names = [type(e).__name__ for e in seen]
    partials = [i for i, name in enumerate(names) if name == "TranscriptDelta"]
    assert all(0 < i < names.index("SpeechStopped") for i in partials)
    final = next(e for e in seen if isinstance(e, TranscriptFinal))
    assert word_overlap("what can you do", final.text) >= 0.75
    assert seen[-1].status == "completed"


@pytest.mark.asyncio
async def test_a_tool_round_trip_is_spoken_from_its_result(started: Started) -> None:
    engine, events = await started()

    await say(engine, "take me to the pricing page")
    seen = await collect_until(events, lambda e: isinstance(e, ToolCall))
    call = seen[-1]
    assert call.name == "navigate_to_page"
    assert "pricing" in json.loads(call.arguments)["page"]
    await engine.submit_tool_result(call.call_id, json.dumps({"ok": True, "page": "Pricing"}))
    rest = await collect_until(events, done)

    answer = next(e for e in rest if isinstance(e, TextDone))
    assert answer.text == "Taking you to the Pricing page."
    assert any(isinstance(e, AudioDelta) for e in rest)
    assert rest[-1].status == "completed"


@pytest.mark.asyncio
async def test_cancel_stops_the_response_at_once(started: Started) -> None:
    synthesizer = GatedSynthesizer()
    engine, events = await started(synthesizer=synthesizer)

    await engine.send_text("what can you do")  # a reply of two sentences
    seen = await collect_until(events, lambda e: isinstance(e, AudioDelta))
    await engine.cancel(played_ms=0)  # while the second sentence is being synthesized
    synthesizer.gate.set()
    await engine.send_text("thanks")
    after = await collect_until(events, lambda e: done(e) and e.status == "completed")

    cancelled = seen[0].response_id
    assert after[0] == ResponseDone(response_id=cancelled, status="cancelled")
    assert all(getattr(e, "response_id", None) != cancelled for e in after[1:])


@pytest.mark.asyncio
async def test_cancel_while_waiting_for_a_tool(started: Started) -> None:
    engine, events = await started()

    await engine.send_text("search for security")
    call = (await collect_until(events, lambda e: isinstance(e, ToolCall)))[-1]
    await engine.cancel()
    await engine.submit_tool_result(call.call_id, json.dumps({"results": []}))
    await engine.send_text("hello")
    after = await collect_until(events, lambda e: done(e) and e.status == "completed")

    assert after[0] == ResponseDone(response_id=call.response_id, status="cancelled")
    assert all(getattr(e, "response_id", None) != call.response_id for e in after[1:])


@pytest.mark.asyncio
async def test_typed_text_is_answered_like_speech(started: Started) -> None:
    engine, events = await started()

    await engine.send_text("hello")
    seen = await collect_until(events, done)

    assert kinds(seen) == ["ResponseStarted", "TextDelta", "TextDone", "AudioDelta", "ResponseDone"]
    answer = next(e for e in seen if isinstance(e, TextDone)).text
    assert "".join(e.text for e in seen if isinstance(e, TextDelta)) == answer
    assert answer.startswith("Hello!")


@pytest.mark.asyncio
async def test_commit_ends_the_turn_without_server_vad(started: Started) -> None:
    engine, events = await started(turns=False)
    assert not engine.detects_turns

    for offset in range(0, len(audio := utterance("show me the blog")), 960):
        await engine.send_audio(audio[offset : offset + 960])
    await engine.commit()
    seen = await collect_until(events, lambda e: isinstance(e, ToolCall))

    assert not any(isinstance(e, SpeechStarted | SpeechStopped) for e in seen)
    final = next(e for e in seen if isinstance(e, TranscriptFinal))
    assert word_overlap("show me the blog", final.text) >= 0.75
    assert json.loads(seen[-1].arguments) == {"page": "blog"}


@pytest.mark.asyncio
async def test_update_adds_new_site_words(started: Started) -> None:
    engine, events = await started()

    hints = (*HINTS, "Vocalis")
    await engine.update(SessionConfig(session_id="t", turn_detection=TurnDetection(), hints=hints))
    await say(engine, "tell me about vocalis")
    call = (await collect_until(events, lambda e: isinstance(e, ToolCall)))[-1]

    assert (call.name, json.loads(call.arguments)) == ("get_site_info", {"topic": "vocalis"})


@pytest.mark.asyncio
async def test_commit_after_server_vad_ended_the_turn_does_nothing(started: Started) -> None:
    engine, events = await started()

    await say(engine, "hello there")
    await collect_until(events, done)
    await engine.commit()  # queued before the next utterance, so handled before it
    await say(engine, "what can you do")
    seen = await collect_until(events, done)

    finals = [e for e in seen if isinstance(e, TranscriptFinal)]
    assert len(finals) == 1 and word_overlap("what can you do", finals[0].text) >= 0.75


@pytest.mark.asyncio
async def test_cleared_input_is_not_transcribed(started: Started) -> None:
    engine, events = await started(turns=False)

    await engine.send_audio(utterance("open the careers page"))
    await engine.clear_input()
    await engine.commit()
    seen = await collect_until(events, done)

    assert seen[0] == TranscriptFinal(text="")
    assert "didn't catch that" in next(e for e in seen if isinstance(e, TextDone)).text


@pytest.mark.asyncio
async def test_speech_during_a_response_is_reported_for_barge_in(started: Started) -> None:
    engine, events = await started()

    await engine.send_text("search for security")  # the response waits for its tool
    await collect_until(events, lambda e: isinstance(e, ToolCall))
    await say(engine, "stop")
    seen = await collect_until(events, lambda e: isinstance(e, SpeechStarted))

    assert not any(isinstance(e, ResponseDone) for e in seen)


@pytest.mark.asyncio
async def test_a_tool_without_result_times_out_politely(started: Started) -> None:
    engine, events = await started(tool_timeout_s=0.2)

    await engine.send_text("search for security")
    seen = await collect_until(events, done)

    assert "didn't answer in time" in next(e for e in seen if isinstance(e, TextDone)).text


@pytest.mark.asyncio
async def test_close_ends_the_event_stream_and_is_idempotent(started: Started) -> None:
    engine, events = await started()

    await engine.close()
    await engine.close()

    assert [e async for e in events] == []
