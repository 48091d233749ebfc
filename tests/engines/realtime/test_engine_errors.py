"""The ``openai-realtime`` engine when the service reports errors or sends odd events."""

from __future__ import annotations

import logging

import pytest

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.engines.realtime import VAD, failures, running, shape, speak
from voice.engines.base import (
    AudioDelta,
    EngineFailure,
    ResponseDone,
    SessionConfig,
    TextDone,
    TranscriptFinal,
)

# ---- errors and odd events --------------------------------------------------------------------


async def test_an_error_event_is_reported_and_the_response_goes_on(fake: FakeOpenAI):
    fake.faults.ws_error(after="response.output_audio.delta", nth=2, message="hiccup")
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        events = await inbox.until(ResponseDone)

    assert failures(events) == [
        EngineFailure("The AI service reported an error (upstream server_error).")
    ]
    assert events[-1].status == "completed"


async def test_a_failed_response_is_reported_and_the_next_one_works(fake: FakeOpenAI):
    fake.faults.fail_response(code="rate_limit_exceeded", type_="requests")
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        failed = await inbox.until(EngineFailure)
        await engine.send_text("again")
        events = await inbox.until(ResponseDone)

    assert shape(failed) == ["ResponseStarted", "ResponseDone", "EngineFailure"]
    assert failed[1].status == "failed" and failed[2].fatal is False
    assert events[-1].status == "completed"


async def test_a_failed_input_transcription_is_an_empty_transcript(fake: FakeOpenAI):
    fake.faults.fail_input_transcription()
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(300))
        await engine.commit()
        events = await inbox.until(TranscriptFinal)

    assert events[-1] == TranscriptFinal("")


async def test_beta_event_names_are_taken_as_their_ga_twins(fake: FakeOpenAI):
    fake.faults.ws_beta_names(after="response.created")
    config = SessionConfig(session_id="beta", turn_detection=VAD)
    async with running(fake, config) as (engine, inbox):
        await speak(engine, tone_pcm16(300) + silence_pcm16(600))
        events = await inbox.until(ResponseDone)

    assert "response.audio.delta" in {s.type for s in fake.records.ws_sent}
    assert shape(events)[-4:] == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert any(isinstance(e, AudioDelta) for e in events)
    text_done = next(e for e in events if isinstance(e, TextDone))
    assert text_done.text == fake.config.reply


async def test_unknown_event_types_are_tolerated_and_logged_once(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
):
    future = {"type": "response.future_feature.delta", "response_id": "resp_x", "delta": "?"}
    fake.faults.ws_inject(
        {"type": "conversation.created", "conversation": {"id": "conv_1"}}, after="session.updated"
    )
    fake.faults.ws_inject(future, after="response.output_audio.delta", nth=1)
    fake.faults.ws_inject(future, after="response.output_audio.delta", nth=2)
    caplog.set_level(logging.INFO, logger="voice.engines.realtime.translator")
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        events = await inbox.until(ResponseDone)

    assert shape(events) == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert events[-2].text == fake.config.reply and failures(inbox.seen) == []
    notes = [r.getMessage() for r in caplog.records if "future_feature" in r.getMessage()]
    assert notes == ["realtime event type response.future_feature.delta ignored"]
    assert not [r for r in caplog.records if "conversation.created" in r.getMessage()]
