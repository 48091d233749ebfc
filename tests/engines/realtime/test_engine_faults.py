"""The ``openai-realtime`` engine when the upstream misbehaves: drops, refusals, limits, errors."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace

import pytest

from devtools.fake_openai.audio import tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.engines.realtime import failures, running, sent, shape, speak
from voice.engines.base import (
    EngineFailure,
    ResponseDone,
    SessionConfig,
    TranscriptFinal,
)
from voice.engines.realtime.engine import RECONNECT


def on_socket(fake: FakeOpenAI, connection: int) -> list[dict]:
    return [e.event for e in fake.records.ws_events if e.connection == connection]


def appended(fake: FakeOpenAI, connection: int) -> bytes:
    """The user audio one socket received, decoded."""
    appends = sent(fake, "input_audio_buffer.append", connection)
    return b"".join(base64.b64decode(e["audio"]) for e in appends)


# ---- transient drops --------------------------------------------------------------------------


def texts_created(fake: FakeOpenAI, connection: int) -> list[tuple[str, str]]:
    return [
        (e["item"]["role"], e["item"]["content"][0]["text"])
        for e in sent(fake, "conversation.item.create", connection)
    ]


@pytest.mark.parametrize("fault", ["drop", "close_1011"])
async def test_a_dropped_socket_is_reopened_with_the_conversation_replayed(
    fake: FakeOpenAI, fault: str
):
    if fault == "drop":
        fake.faults.ws_drop(after="rate_limits.updated")  # abrupt TCP loss: the client sees 1006
    else:
        fake.faults.ws_close(1011, "internal error", after="rate_limits.updated")
    config = SessionConfig(session_id="drop", history=(("user", "Hi"), ("assistant", "Hello!")))
    async with running(fake, config) as (engine, inbox):
        await engine.send_text("What is new?")
        await inbox.until(ResponseDone)
        await fake.wait_for(lambda: len(on_socket(fake, 1)) >= 5)
        await engine.send_text("And then?")
        events = await inbox.until(ResponseDone)

    assert on_socket(fake, 1)[0] == on_socket(fake, 0)[0]  # the same session.update
    assert texts_created(fake, 0) == [
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "What is new?"),
    ]
    assert texts_created(fake, 1) == [
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "What is new?"),
        ("assistant", fake.config.reply),
        ("user", "And then?"),
    ]
    assert sent(fake, "response.create", 1) == [{"type": "response.create"}]
    assert events[-1].status == "completed"
    assert failures(inbox.seen) == []  # nothing was in flight: nobody needs to know


async def test_a_drop_mid_response_fails_that_response_then_the_next_turn_works(
    fake: FakeOpenAI,
):
    fake.faults.ws_drop(after="response.output_audio.delta")
    slow = replace(RECONNECT, max_attempts=3, base_delay=0.3, max_delay=0.3)
    async with running(fake, retry=slow) as (engine, inbox):
        await engine.send_text("first")
        cut = await inbox.until(EngineFailure)
        spoken = tone_pcm16(200)
        await speak(engine, spoken)  # while reconnecting: kept for the new socket
        await fake.wait_for(lambda: len(on_socket(fake, 1)) >= 2)
        await engine.send_text("second")
        events = await inbox.until(ResponseDone)

    assert shape(cut) == ["ResponseStarted", "Delta", "ResponseDone", "EngineFailure"]
    assert cut[-2].status == "failed" and cut[-1].fatal is False
    # The failed answer is not replayed: the user never got it.
    assert texts_created(fake, 1) == [("user", "first"), ("user", "second")]
    assert engine.dropped_audio_ms == 0
    assert sent(fake, "input_audio_buffer.append", 0) == []
    assert appended(fake, 1) == spoken
    assert events[-1].status == "completed"


# ---- an utterance across a drop -----------------------------------------------------------


async def test_an_utterance_spoken_across_a_drop_reaches_the_new_socket_whole(fake: FakeOpenAI):
    fake.faults.ws_drop(after="session.updated", nth=2)  # answering our second session.update
    slow = replace(RECONNECT, max_attempts=3, base_delay=0.2, max_delay=0.2)
    spoken = tone_pcm16(300)
    async with running(fake, retry=slow) as (engine, inbox):
        await speak(engine, spoken)
        await engine.update(SessionConfig(session_id="across", instructions="Be brief."))
        frame = tone_pcm16(20)
        while not on_socket(fake, 1):  # the microphone goes on while the engine reconnects
            await engine.send_audio(frame)
            spoken += frame
            await asyncio.sleep(0.02)  # a microphone's pace
        tail = tone_pcm16(100)
        await speak(engine, tail)
        spoken += tail
        await engine.commit()
        events = await inbox.until(ResponseDone)

    # The service lost the first socket's input buffer: the new one got all of the utterance.
    assert appended(fake, 1) == spoken
    assert len(spoken) > len(tone_pcm16(400))  # some of it while the engine was reconnecting
    assert [e["type"] for e in on_socket(fake, 1)][-2:] == [
        "input_audio_buffer.commit",
        "response.create",
    ]
    assert [e.text for e in events if isinstance(e, TranscriptFinal)] == [fake.config.transcript]
    assert events[-1].status == "completed"
    assert engine.dropped_audio_ms == 0
    assert failures(inbox.seen) == []


async def test_a_commit_the_service_never_confirmed_is_made_again_after_a_drop(
    fake: FakeOpenAI,
):
    # The socket dies as the commit is sent: whether it reached the service or not, the
    # utterance is answered on the new socket, and the session is not left waiting.
    fake.faults.ws_drop(after="session.updated", nth=2)
    spoken = tone_pcm16(300)
    async with running(fake) as (engine, inbox):
        await speak(engine, spoken)
        await engine.update(SessionConfig(session_id="commit", instructions="Be brief."))
        await engine.commit()
        events = await inbox.until(ResponseDone)

    assert appended(fake, 1) == spoken
    assert len(sent(fake, "input_audio_buffer.commit", 1)) == 1
    assert [e.text for e in events if isinstance(e, TranscriptFinal)] == [fake.config.transcript]
    assert events[-1].status == "completed"
    assert failures(inbox.seen) == []


async def test_session_expiry_reconnects_transparently(fake: FakeOpenAI):
    fake.config.session_max_seconds = 0.3
    async with running(fake) as (engine, inbox):
        await fake.wait_for(lambda: len(on_socket(fake, 0)) >= 1)
        fake.config.session_max_seconds = 3600  # only the first socket expires
        await fake.wait_for(lambda: len(on_socket(fake, 1)) >= 1, within=5)
        await engine.send_text("still there?")
        events = await inbox.until(ResponseDone)

    expired = [s.event for s in fake.records.ws_sent if s.type == "error"]
    assert [e["error"]["code"] for e in expired] == ["session_expired"]
    assert on_socket(fake, 1)[0]["type"] == "session.update"
    assert events[-1].status == "completed" and failures(inbox.seen) == []


# ---- unrecoverable ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [4000, 1008])
async def test_a_final_close_code_is_fatal_without_retry(fake: FakeOpenAI, code: int):
    fake.faults.ws_close(code, "invalid_request_error", after="session.updated")
    async with running(fake) as (engine, inbox):
        events = await inbox.until(EngineFailure)

    assert events[-1].fatal is True and events[-1].code == "upstream"
    assert str(code) in events[-1].message
    assert len(fake.records.requests_to("realtime")) == 1


async def test_a_handshake_401_is_fatal_without_retry(fake: FakeOpenAI):
    async with running(fake, api_key="sk-wrong") as (engine, inbox):
        await engine.send_text("hello?")  # dropped quietly, no crash
        await engine.send_audio(tone_pcm16(40))
        events = await inbox.until(EngineFailure)

    assert events == [
        EngineFailure(
            "The AI service refused the connection (upstream 401 invalid_api_key).", fatal=True
        )
    ]
    assert "sk-wrong" not in events[0].message
    assert [r.status for r in fake.records.requests_to("realtime")] == [401]


async def test_a_refused_handshake_is_retried_while_transient(fake: FakeOpenAI):
    fake.faults.fail("realtime", 503, times=2)
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        events = await inbox.until(ResponseDone)

    assert [r.status for r in fake.records.requests_to("realtime")] == [503, 503, 101]
    assert events[-1].status == "completed"


async def test_reconnecting_gives_up_after_the_attempt_budget(fake: FakeOpenAI):
    # Closed at the third item: after one answered turn, so the budget starts afresh.
    fake.faults.ws_close(1013, "try again later", after="conversation.item.done", nth=3)
    async with running(fake) as (engine, inbox):
        await engine.send_text("hi")
        await inbox.until(ResponseDone)
        fake.faults.fail("realtime", 503, times=10)
        await engine.send_text("again")
        events = await inbox.until(EngineFailure)

    assert events[-1] == EngineFailure(
        "The AI service refused the connection (upstream 503 server_error).", fatal=True
    )
    assert [r.status for r in fake.records.requests_to("realtime")] == [101, 503, 503, 503]


async def test_text_typed_while_reconnecting_is_answered_after_the_replay(fake: FakeOpenAI):
    fake.faults.ws_drop(after="response.output_audio.delta")
    slow = replace(RECONNECT, max_attempts=3, base_delay=0.3, max_delay=0.3)
    async with running(fake, retry=slow) as (engine, inbox):
        await engine.send_text("first")
        await inbox.until(EngineFailure)
        await engine.send_text("are you back?")  # the socket is still down
        events = await inbox.until(ResponseDone)

    assert texts_created(fake, 1) == [("user", "first"), ("user", "are you back?")]
    assert sent(fake, "response.create", 1) == [{"type": "response.create"}]
    assert events[-1].status == "completed"
