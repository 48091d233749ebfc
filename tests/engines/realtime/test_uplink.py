"""The user audio of a Realtime conversation across appends, commits and reconnects."""

from __future__ import annotations

import base64
from typing import Any

from voice.engines.realtime.uplink import IDLE_REPLAY_MS, Commit, Uplink


def ms(n: int, sample: bytes = b"\x01\x00") -> bytes:
    return sample * 24 * n


def audio_of(events: list[dict[str, Any]]) -> bytes:
    appends = [e for e in events if e["type"] == "input_audio_buffer.append"]
    return b"".join(base64.b64decode(e["audio"]) for e in appends)


def test_audio_goes_up_in_whole_appends_and_the_rest_before_a_commit() -> None:
    uplink = Uplink(append_ms=40)

    chunks = uplink.add(ms(100), connected=True, lost=False)
    rest = uplink.rest()

    assert [len(c) for c in chunks] == [1920, 1920] and len(rest) == 960
    assert uplink.commit(connected=True, failed=False) is Commit.SEND
    assert uplink.commit(connected=True, failed=False) is Commit.EMPTY  # nothing new since


def test_under_100_ms_is_not_worth_a_commit() -> None:
    uplink = Uplink(append_ms=40)
    uplink.add(ms(60), connected=True, lost=False)

    assert uplink.commit(connected=True, failed=False) is Commit.EMPTY


def test_audio_the_service_did_not_confirm_is_replayed_with_its_commit() -> None:
    uplink = Uplink(append_ms=40)
    spoken = ms(300)
    uplink.add(spoken, connected=True, lost=False)
    uplink.commit(connected=True, failed=False)

    uplink.lose(idle=False)
    replay = uplink.replay()
    waiting = uplink.resume(replay)

    assert audio_of(replay.events) == spoken
    assert [e["type"] for e in replay.events][-2:] == [
        "input_audio_buffer.commit",
        "response.create",
    ]
    assert (replay.due, replay.sent, waiting) == (len(spoken), len(spoken), False)


def test_confirmed_audio_is_not_replayed() -> None:
    uplink = Uplink(append_ms=40)
    uplink.add(ms(300), connected=True, lost=False)
    uplink.confirm()

    uplink.lose(idle=False)

    assert uplink.replay().events == []


def test_with_nobody_speaking_only_a_lead_in_is_replayed() -> None:
    uplink = Uplink(append_ms=40)
    uplink.add(ms(3000), connected=True, lost=False)

    uplink.lose(idle=True)

    assert len(audio_of(uplink.replay().events)) == IDLE_REPLAY_MS * 48


def test_a_commit_while_reconnecting_waits_for_the_replay() -> None:
    uplink = Uplink(append_ms=40)
    late = ms(200, b"\x02\x00")
    uplink.add(late, connected=False, lost=False)

    decision = uplink.commit(connected=False, failed=False)
    replay = uplink.replay()

    assert decision is Commit.LATER
    assert audio_of(replay.events) == late
    assert replay.events[-1] == {"type": "response.create"}


def test_a_waiting_commit_with_too_little_audio_is_reported_on_resume() -> None:
    uplink = Uplink(append_ms=40)
    uplink.add(ms(50), connected=False, lost=False)
    uplink.commit(connected=False, failed=False)

    assert uplink.resume(uplink.replay()) is True


def test_audio_spoken_during_the_setup_goes_with_the_next_append() -> None:
    uplink = Uplink(append_ms=40)
    uplink.add(ms(100), connected=False, lost=False)
    replay = uplink.replay()
    during = ms(40, b"\x03\x00")
    uplink.add(during, connected=False, lost=False)

    uplink.resume(replay)

    assert uplink.rest() == during


def test_audio_without_a_future_socket_is_counted_as_dropped() -> None:
    uplink = Uplink(append_ms=40)

    uplink.add(ms(120), connected=False, lost=True)

    assert uplink.dropped_ms == 120 and uplink.replay().events == []
