"""Turn rows written by a session's recorder."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from voice.models import VoiceSession
from voice.services import sessions as records

pytestmark = pytest.mark.django_db


def test_finishing_a_turn_whose_start_was_never_written_touches_no_session(alice: User) -> None:
    turnless = uuid.uuid4()
    records.open_session(
        turnless, user_id=alice.pk, transport="json", engine="local", client_ip=None
    )

    records.finish_turn(None, {"voice_to_voice_ms": 450, "end_reason": "error"})

    row = VoiceSession.objects.get(pk=turnless)
    assert row.last_latency_ms is None
    assert row.error_count == 0


def test_finishing_a_turn_records_its_latency_on_the_session(alice: User) -> None:
    session_id = uuid.uuid4()
    records.open_session(
        session_id, user_id=alice.pk, transport="json", engine="local", client_ip=None
    )
    turn_id = records.start_turn(session_id, 0, "text", timezone.now())

    records.finish_turn(turn_id, {"voice_to_voice_ms": 450, "end_reason": "error"})

    row = VoiceSession.objects.get(pk=session_id)
    assert row.last_latency_ms == 450
    assert row.error_count == 1
