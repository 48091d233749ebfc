"""The turn clock: stage stamps on one monotonic clock, and the turn row made from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest

from voice.session.clock import TurnClock


class Monotonic:
    """``time.monotonic`` in seconds, moved by the test."""

    def __init__(self) -> None:
        self.seconds = 500.0

    def monotonic(self) -> float:
        return self.seconds

    def at_ms(self, ms: float) -> None:
        self.seconds = 500.0 + ms / 1000


@pytest.fixture
def clock() -> Iterator[Monotonic]:
    fake = Monotonic()
    with mock.patch("voice.session.clock.time", fake):
        yield fake


def spoken_turn(clock: Monotonic, stages: dict[str, float]) -> TurnClock:
    turn = TurnClock(index=0, input_kind="audio")
    for stage, at_ms in stages.items():
        clock.at_ms(at_ms)
        turn.stamp(stage)
    return turn


def test_a_stage_keeps_the_first_time_it_was_reached(clock: Monotonic) -> None:
    turn = spoken_turn(clock, {"speech_end": 100})

    clock.at_ms(900)
    turn.stamp("speech_end")

    assert turn.speech_end == turn.started + 100


def test_a_spoken_turn_is_split_along_the_latency_budget(clock: Monotonic) -> None:
    turn = spoken_turn(
        clock,
        {
            "speech_end": 1000,
            "transcript_final": 1300,
            "first_text": 1800,
            "first_audio_received": 2100,
            "first_audio_sent": 2102,
            "response_done": 4000,
        },
    )

    fields = turn.record("completed")

    assert fields["stt_ms"] == 300
    assert fields["model_ms"] == 500
    assert fields["synthesis_ms"] == 300
    assert fields["server_ms"] == 2
    assert fields["voice_to_voice_ms"] == 1102
    assert fields["end_reason"] == "completed"


def test_a_typed_turn_measures_from_the_text_arriving(clock: Monotonic) -> None:
    turn = spoken_turn(clock, {"transcript_final": 0, "first_text": 400, "first_audio_sent": 900})

    fields = turn.record("completed")

    assert fields["stt_ms"] is None
    assert fields["voice_to_voice_ms"] == 900


def test_missing_or_backward_spans_are_not_recorded(clock: Monotonic) -> None:
    turn = spoken_turn(clock, {"first_text": 500, "speech_end": 900})
    turn.transcript_final = turn.speech_end - 10  # reached before the speech ended

    fields = turn.record("barge_in")

    assert fields["stt_ms"] is None
    assert fields["synthesis_ms"] is None
    assert fields["first_audio_at"] is None


def test_stamps_become_wall_clock_instants_from_the_turns_start(clock: Monotonic) -> None:
    turn = spoken_turn(clock, {"speech_end": 1500, "barge_in": 2250})

    fields = turn.record("barge_in")

    assert fields["speech_end_at"] == turn.wall + timedelta(milliseconds=1500)
    assert fields["barge_in_at"] == turn.wall + timedelta(milliseconds=2250)


def test_the_recorded_error_fits_its_column(clock: Monotonic) -> None:
    turn = TurnClock(index=3, input_kind="text")

    fields = turn.record("error", "x" * 1000)

    assert len(fields["error"]) == 255
