"""``SessionService`` driven directly: a scripted engine in, a list of session events out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.session.scripted import Delivered, ScriptedEngine
from voice.engines import base as eng
from voice.session import events as ev
from voice.session.clock import now_ms
from voice.session.output import Sink
from voice.session.service import SessionService
from voice.session.settings import SessionSettings

pytestmark = pytest.mark.django_db(transaction=True)

PCM_100_MS = b"\x01\x00" * 2400  # 24 kHz PCM16 mono
PCM_2_S = PCM_100_MS * 20


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture
def delivered() -> Delivered:
    return Delivered()


async def opened(user: User, engine: ScriptedEngine, sink: Sink, output: str) -> SessionService:
    service = SessionService(
        engine=engine,
        sink=sink,
        transport="json",
        user_id=user.pk,
        client_ip="127.0.0.1",
        session_id=uuid.uuid4(),
    )
    await service.open()
    await service.configure(SessionSettings(audio_format="pcm16", output_format=output), {})
    return service


@pytest.fixture
async def session(
    alice: User, engine: ScriptedEngine, delivered: Delivered
) -> AsyncIterator[SessionService]:
    service = await opened(alice, engine, delivered, "pcm16")
    yield service
    await service.close()


def kinds(events: list[ev.SessionEvent]) -> list[type]:
    return [type(event) for event in events]


async def test_a_barge_in_drops_the_rest_of_the_cancelled_response(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    await session.text("tell me a story")
    engine.emit(eng.ResponseStarted("r1"), eng.AudioDelta("r1", PCM_100_MS))
    await delivered.until(lambda e: isinstance(e, ev.Audio))

    await session.barge_in(now_ms())
    engine.emit(
        eng.AudioDelta("r1", PCM_100_MS),
        eng.TextDelta("r1", "Once upon"),
        eng.TextDone("r1", "Once upon"),
        eng.ResponseDone("r1", "cancelled"),
        eng.ResponseStarted("r2"),
    )
    await delivered.until(lambda e: e == ev.ResponseStart("r2"))

    barge_in = kinds(delivered).index(ev.BargeIn)
    assert kinds(delivered[barge_in:]) == [ev.BargeIn, ev.AudioComplete, ev.ResponseStart]
    assert delivered[barge_in + 1] == ev.AudioComplete("r1")
    assert len(delivered.of_type(ev.Audio)) == 1
    assert engine.calls_to("cancel") == [100]  # the ms of audio the client got


async def test_a_barge_in_stops_the_packets_of_a_delta_being_written(
    alice: User, engine: ScriptedEngine, delivered: Delivered
) -> None:
    first_packet_out = asyncio.Event()
    release = asyncio.Event()

    async def slow_client(event: ev.SessionEvent) -> None:
        await delivered(event)
        if isinstance(event, ev.Audio) and not first_packet_out.is_set():
            first_packet_out.set()
            await release.wait()

    session = await opened(alice, engine, slow_client, "opus")
    await session.text("tell me a story")
    engine.emit(eng.ResponseStarted("r1"), eng.AudioDelta("r1", PCM_2_S))
    await first_packet_out.wait()

    barge_in = asyncio.create_task(session.barge_in(now_ms()))
    await asyncio.sleep(0)  # one loop turn: the barge-in runs until it waits for that packet
    release.set()
    await barge_in
    await session.close()

    assert kinds(delivered) == [ev.ResponseStart, ev.Audio, ev.BargeIn, ev.AudioComplete]


async def test_a_response_completes_after_its_text_and_ends_with_a_last_audio_chunk(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    await session.text("hello")

    engine.emit(
        eng.ResponseStarted("r1"),
        eng.TextDelta("r1", "Hi"),
        eng.AudioDelta("r1", PCM_100_MS),
        eng.TextDone("r1", "Hi", {"total_tokens": 3}),
        eng.ResponseDone("r1"),
    )
    await delivered.until(lambda e: isinstance(e, ev.AudioComplete))

    assert delivered == [
        ev.ResponseStart("r1"),
        ev.ResponseText("r1", "Hi"),
        ev.Audio("r1", PCM_100_MS, "pcm16"),
        ev.ResponseComplete("r1", "Hi", {"total_tokens": 3}),
        ev.Audio("r1", b"", "pcm16", is_last=True),
        ev.AudioComplete("r1"),
    ]


async def test_a_spoken_answer_waits_for_the_transcript_of_the_question(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    await session.start_listening()
    await session.audio(PCM_100_MS)
    await session.stop_listening()

    engine.emit(
        eng.ResponseStarted("r1"),
        eng.TextDone("r1", "It is ten euros."),
        eng.TranscriptFinal("how much is it"),
        eng.ResponseDone("r1"),
    )
    await delivered.until(lambda e: isinstance(e, ev.AudioComplete))

    assert kinds(delivered)[:3] == [ev.ResponseStart, ev.Transcript, ev.ResponseComplete]
    assert engine.audio == PCM_100_MS
    assert engine.calls_to("commit") == [None]


async def test_a_spent_utterance_limit_refuses_text_and_then_audio(
    settings: Any, session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    settings.VOICE_UTTERANCES_PER_MINUTE = 1
    await session.text("one")

    await session.text("two")
    await session.audio(PCM_100_MS)

    assert delivered == [ev.Error(ev.ErrorKind.RATE_LIMITED, ev.RATE_LIMIT_MESSAGE)]
    assert engine.calls_to("send_text") == ["one"]
    assert engine.audio == b""


async def test_a_new_utterance_is_busy_until_the_last_one_is_transcribed(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    await session.start_listening()
    await session.audio(PCM_100_MS)
    await session.stop_listening()

    await session.start_listening()
    engine.emit(eng.TranscriptFinal("first"))
    await delivered.until(lambda e: isinstance(e, ev.Transcript))
    await session.start_listening()

    assert kinds(delivered) == [ev.Error, ev.Transcript]
    assert delivered[0] == ev.Error(ev.ErrorKind.BUSY, "Still transcribing the previous utterance")
    assert session.listening


@pytest.fixture
def short_audio_burst(settings: Any) -> None:
    settings.VOICE_AUDIO_BURST_SECONDS = 0.2


async def test_audio_far_ahead_of_real_time_ends_the_session_as_flooded(
    short_audio_burst: None,
    session: SessionService,
    engine: ScriptedEngine,
    delivered: Delivered,
) -> None:
    for _ in range(5):
        await session.audio(PCM_100_MS)

    assert delivered.of_type(ev.SessionEnded)[0] == ev.SessionEnded(
        ev.Ending.FLOODED, "audio_flood"
    )
    assert len(engine.audio) < 5 * len(PCM_100_MS)


async def test_a_fatal_engine_failure_is_reported_then_ends_the_session(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    engine.emit(eng.EngineFailure("The AI service is gone.", fatal=True))

    await delivered.until(lambda e: isinstance(e, ev.SessionEnded))

    assert delivered == [
        ev.Error(ev.ErrorKind.UPSTREAM, "The AI service is gone."),
        ev.SessionEnded(ev.Ending.UPSTREAM, "upstream_lost"),
    ]


async def test_interrupting_the_playback_of_a_finished_answer_cancels_what_was_unheard(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    await session.text("read it all")
    engine.emit(eng.ResponseStarted("r1"), eng.AudioDelta("r1", PCM_2_S), eng.ResponseDone("r1"))
    await delivered.until(lambda e: isinstance(e, ev.AudioComplete))

    await session.barge_in(now_ms())

    barge_in = delivered.of_type(ev.BargeIn)
    assert [event.response_id for event in barge_in] == [""]
    (heard_ms,) = engine.calls_to("cancel")
    assert 0 <= heard_ms < 2000


async def test_a_tool_call_of_a_state_setter_tells_the_client_and_answers_the_model(
    session: SessionService, engine: ScriptedEngine, delivered: Delivered
) -> None:
    context = {"stateSetters": {"theme": {"setTheme": {"description": "Set the theme"}}}}
    await session.configure(session.settings, context)
    setter = next(spec.name for spec in session.tools.specs() if spec.name.startswith("set_"))
    await session.text("dark mode")

    engine.emit(eng.ResponseStarted("r1"), eng.ToolCall("r1", "c1", setter, '{"value": "dark"}'))
    await delivered.until(lambda e: isinstance(e, ev.SetState))

    assert delivered.of_type(ev.SetState) == [ev.SetState("theme", "setTheme", {"value": "dark"})]
    ((call_id, output),) = engine.calls_to("submit_tool_result")
    assert call_id == "c1" and '"ok": true' in output
