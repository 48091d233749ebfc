"""The Realtime translator on its own: server events in, engine events and client events out."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from devtools.fake_openai.errors import invalid_key_message
from tests.key_leaks import REJECTED_KEY, leaked
from voice.engines.base import (
    AudioDelta,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    TextDone,
    ToolCall,
    TranscriptDelta,
    TranscriptFinal,
)
from voice.engines.realtime.translator import RealtimeTranslator

PCM_100_MS = b"\x01\x00" * 2400


def created(response_id: str) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id}}


def done(response_id: str, status: str = "completed", **usage: int) -> dict[str, Any]:
    return {
        "type": "response.done",
        "response": {"id": response_id, "status": status, "usage": usage},
    }


def said(response_id: str, text: str, item_id: str = "a1") -> dict[str, Any]:
    return {
        "type": "response.output_audio_transcript.delta",
        "response_id": response_id,
        "item_id": item_id,
        "delta": text,
    }


def audio(response_id: str, pcm: bytes = PCM_100_MS, item_id: str = "a1") -> dict[str, Any]:
    delta = base64.b64encode(pcm).decode()
    return {
        "type": "response.output_audio.delta",
        "response_id": response_id,
        "item_id": item_id,
        "delta": delta,
    }


def feed(translator: RealtimeTranslator, *events: dict[str, Any]) -> list[Any]:
    """The engine events of several server events, in order."""
    return [e for event in events for e in translator.translate(event).events]


def test_a_spoken_turn_becomes_the_engine_events_in_order() -> None:
    translator = RealtimeTranslator("s")
    translator.server_vad = True

    events = feed(
        translator,
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 20, "item_id": "u1"},
        {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": "u1"},
    )
    committed = translator.translate({"type": "input_audio_buffer.committed", "item_id": "u1"})
    events += feed(
        translator,
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "u1",
            "delta": "hi",
        },
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u1",
            "transcript": "hi there",
            "usage": {"total_tokens": 7},
        },
        created("r1"),
        said("r1", "Hello"),
        audio("r1"),
        done("r1", output_tokens=3),
    )

    assert committed.committed and committed.events == committed.commands == []
    assert events == [
        SpeechStarted(20),
        SpeechStopped(900),
        TranscriptDelta("hi"),
        TranscriptFinal("hi there", {"total_tokens": 7}),
        ResponseStarted("r1"),
        TextDelta("r1", "Hello"),
        AudioDelta("r1", PCM_100_MS, received_at=events[6].received_at),
        TextDone("r1", "Hello", {"output_tokens": 3}),
        ResponseDone("r1", "completed", {"output_tokens": 3}),
    ]
    assert translator.log.entries() == [("user", "hi there"), ("assistant", "Hello")]
    assert translator.responses.voice_locked


def test_an_answer_is_held_until_the_user_transcript_arrives() -> None:
    translator = RealtimeTranslator("s")
    feed(translator, {"type": "input_audio_buffer.committed", "item_id": "u1"})

    early = feed(translator, created("r1"), said("r1", "Sure."), done("r1"))
    held = translator.responses.held
    late = feed(
        translator,
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "u1",
            "transcript": "help",
        },
    )

    assert early == [ResponseStarted("r1"), TextDelta("r1", "Sure.")]
    assert held is not None and held.id == "r1"
    assert late == [TranscriptFinal("help"), TextDone("r1", "Sure."), ResponseDone("r1")]
    assert translator.responses.held is None
    assert translator.log.entries() == [("user", "help"), ("assistant", "Sure.")]


def test_release_ends_a_held_answer_once() -> None:
    translator = RealtimeTranslator("s")
    feed(translator, {"type": "input_audio_buffer.committed", "item_id": "u1"})
    feed(translator, created("r1"), said("r1", "Sure."), done("r1"))

    first, second = translator.release(), translator.release()

    assert first.events == [TextDone("r1", "Sure."), ResponseDone("r1")]
    assert second.events == []


def test_a_tool_round_continues_the_same_turn() -> None:
    translator = RealtimeTranslator("s")
    call = {
        "type": "response.function_call_arguments.done",
        "response_id": "r1",
        "call_id": "c1",
        "name": "lookup",
        "arguments": "{}",
    }

    asked = feed(translator, created("r1"), call, done("r1", output_tokens=2))
    answered = translator.responses.tool_result("c1", '{"ok": true}')
    rest = feed(translator, created("r2"), said("r2", "Done."), done("r2", output_tokens=5))

    assert asked == [ResponseStarted("r1"), ToolCall("r1", "c1", "lookup", "{}")]
    assert answered.commands == [
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "c1", "output": '{"ok": true}'},
        },
        {"type": "response.create"},
    ]
    assert rest == [
        TextDelta("r1", "Done."),
        TextDone("r1", "Done.", {"output_tokens": 7}),
        ResponseDone("r1", "completed", {"output_tokens": 7}),
    ]


def test_cancel_stops_the_response_and_truncates_to_the_audio_received() -> None:
    translator = RealtimeTranslator("s")
    feed(translator, created("r1"), audio("r1"), audio("r1"))

    cut = translator.responses.cancel(played_ms=60_000)
    again = translator.responses.cancel(played_ms=100)

    assert cut.events == []
    assert cut.commands == [
        {"type": "response.cancel", "response_id": "r1"},
        {
            "type": "conversation.item.truncate",
            "item_id": "a1",
            "content_index": 0,
            "audio_end_ms": 200,
        },
    ]
    assert again.commands == []  # cancelled and cut once
    assert feed(translator, done("r1", "cancelled")) == [ResponseDone("r1", "cancelled")]


def test_speech_under_server_vad_means_the_service_cancels_by_itself() -> None:
    translator = RealtimeTranslator("s")
    translator.server_vad = True
    feed(translator, created("r1"), audio("r1"))

    feed(translator, {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0})
    cut = translator.responses.cancel(played_ms=50)

    assert cut.commands == [
        {
            "type": "conversation.item.truncate",
            "item_id": "a1",
            "content_index": 0,
            "audio_end_ms": 50,
        }
    ]


def test_a_new_response_ends_the_one_before_as_cancelled() -> None:
    translator = RealtimeTranslator("s")

    events = feed(translator, created("r1"), created("r2"), audio("r1"))

    assert events == [ResponseStarted("r1"), ResponseDone("r1", "cancelled"), ResponseStarted("r2")]


def test_beta_event_names_are_taken_as_their_ga_twins() -> None:
    translator = RealtimeTranslator("s")

    events = feed(
        translator, created("r1"), {**said("r1", "Hi"), "type": "response.audio_transcript.delta"}
    )

    assert events == [ResponseStarted("r1"), TextDelta("r1", "Hi")]


def test_error_events_by_their_code() -> None:
    translator = RealtimeTranslator("s")

    def error(code: str | None) -> list[Any]:
        return feed(translator, {"type": "error", "error": {"type": "server_error", "code": code}})

    assert error("input_audio_buffer_commit_empty") == [TranscriptFinal("")]
    assert error("response_cancel_not_active") == []
    assert error("invalid_api_key") == [] and "invalid_api_key" in translator.last_error
    assert error("session_expired") == [] and translator.expired
    assert error(None) == [
        EngineFailure("The AI service reported an error (upstream server_error).")
    ]


def test_error_events_are_logged_and_reported_without_their_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    translator = RealtimeTranslator("s")
    quoting = {"type": "invalid_request_error", "message": invalid_key_message(REJECTED_KEY)}

    reported = feed(translator, {"type": "error", "error": {**quoting, "code": "invalid_value"}})
    feed(translator, {"type": "error", "error": {**quoting, "code": "invalid_api_key"}})

    assert leaked(REJECTED_KEY, caplog.text) == []
    assert reported == [EngineFailure("The AI service reported an error (upstream invalid_value).")]
    assert translator.last_error == "The AI service ended the session (upstream invalid_api_key)."


def test_a_failed_response_is_reported() -> None:
    translator = RealtimeTranslator("s")

    events = feed(translator, created("r1"), done("r1", "failed"))

    assert events[1:] == [
        ResponseDone("r1", "failed"),
        EngineFailure("The AI service could not answer. Please try again."),
    ]


def test_abandon_fails_what_was_in_flight_and_forgets_the_socket() -> None:
    translator = RealtimeTranslator("s")
    translator.server_vad = True
    feed(
        translator,
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0},
        created("r1"),
        audio("r1"),
        {"type": "error", "error": {"code": "session_expired"}},
    )

    in_flight, out = translator.abandon()
    idle, nothing = translator.abandon()

    assert in_flight and out.events == [ResponseDone("r1", "failed")]
    assert not (translator.speaking or translator.expired or translator.responses.voice_locked)
    assert translator.responses.cancel(played_ms=10).commands == []  # no audio left to cut
    assert (idle, nothing.events) == (False, [])


def test_unknown_and_malformed_events_mean_nothing() -> None:
    translator = RealtimeTranslator("s")

    assert feed(translator, {"type": "response.future_feature.delta"}, {"no": "type"}) == []
    assert feed(translator, {"type": "session.updated", "session": {}}) == []
