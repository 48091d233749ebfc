"""The per-feature rate-limit checks: keys, live sessions, connections, utterances, audio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.services.conftest import T0, FakeTime
from voice.models import RateLimitBucket, VoiceSession
from voice.services import ratelimit

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("clock")
def test_keys_are_limited_per_user(alice: User, sam: User) -> None:
    allowed = [ratelimit.check_key_mint(alice.pk, "198.51.100.1").allowed for _ in range(11)]

    assert allowed == [True] * 10 + [False]
    assert ratelimit.check_key_mint(sam.pk, "198.51.100.1").allowed


@pytest.mark.usefixtures("clock")
def test_keys_are_limited_per_ip_across_users(settings: Any, alice: User, sam: User) -> None:
    settings.VOICE_KEYS_PER_MINUTE_PER_IP = 2
    ratelimit.check_key_mint(alice.pk, "198.51.100.1")
    ratelimit.check_key_mint(alice.pk, "198.51.100.1")

    refused = ratelimit.check_key_mint(sam.pk, "198.51.100.1")

    assert not refused.allowed and refused.key == "keys:ip:198.51.100.1"
    # The refusal spent nothing of sam's own allowance.
    assert RateLimitBucket.objects.get(key=f"keys:user:{sam.pk}/60s").count == 0


def live_session(
    user: User | None, ip: str, ended: bool = False, heartbeat_age: float = 0.0
) -> VoiceSession:
    now = datetime.now(UTC)
    return VoiceSession.objects.create(
        user=user,
        client_ip=ip,
        transport="json",
        engine="local",
        ended_at=now if ended else None,
        heartbeat_at=now - timedelta(seconds=heartbeat_age),
    )


@pytest.mark.usefixtures("clock")
def test_live_sessions_are_capped_per_user(settings: Any, alice: User) -> None:
    settings.VOICE_MAX_SESSIONS_PER_USER = 2
    live_session(alice, "198.51.100.1")
    live_session(alice, "198.51.100.2", ended=True)
    assert ratelimit.check_connection(alice.pk, "198.51.100.3").allowed

    live_session(alice, "198.51.100.4")
    refused = ratelimit.check_connection(alice.pk, "198.51.100.3")

    assert not refused.allowed and refused.key == f"sessions:user:{alice.pk}"
    assert refused.retry_after_header == "5"


@pytest.mark.usefixtures("clock")
def test_a_session_whose_process_died_holds_no_slot(settings: Any, alice: User) -> None:
    settings.VOICE_MAX_SESSIONS_PER_USER = 1
    live_session(alice, "198.51.100.1", heartbeat_age=settings.VOICE_SESSION_STALE_SECONDS + 5)

    assert ratelimit.check_connection(alice.pk, "198.51.100.1").allowed


@pytest.mark.usefixtures("clock")
def test_live_sessions_are_capped_per_ip(settings: Any, alice: User) -> None:
    settings.VOICE_MAX_SESSIONS_PER_IP = 2
    live_session(None, "198.51.100.1")
    live_session(alice, "198.51.100.1")

    assert not ratelimit.check_connection(None, "198.51.100.1").allowed
    assert ratelimit.check_connection(None, "198.51.100.2").allowed


@pytest.mark.usefixtures("clock")
def test_new_connections_are_limited_per_minute_per_ip(settings: Any, alice: User) -> None:
    settings.VOICE_CONNECTIONS_PER_MINUTE_PER_IP = 3
    for _ in range(3):
        assert ratelimit.check_connection(None, "198.51.100.1").allowed

    refused = ratelimit.check_connection(alice.pk, "198.51.100.1")

    assert not refused.allowed and refused.key == "conn:ip:198.51.100.1"
    assert refused.retry_after == pytest.approx(29.75)


@pytest.mark.usefixtures("clock")
def test_new_connections_are_limited_per_minute_per_user(settings: Any, alice: User) -> None:
    settings.VOICE_CONNECTIONS_PER_MINUTE_PER_USER = 2
    ratelimit.check_connection(alice.pk, "198.51.100.1")
    ratelimit.check_connection(alice.pk, "198.51.100.2")

    assert not ratelimit.check_connection(alice.pk, "198.51.100.3").allowed


@pytest.mark.usefixtures("clock")
def test_utterances_are_counted_per_user_or_else_per_ip(settings: Any, alice: User) -> None:
    settings.VOICE_UTTERANCES_PER_MINUTE = 2
    assert [ratelimit.check_utterance(alice.pk, "198.51.100.1").allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]

    assert ratelimit.check_utterance(None, "198.51.100.1").allowed
    assert ratelimit.check_utterance(None, None).allowed


def test_audio_seconds_add_up_in_milliseconds_per_utc_day(
    settings: Any, clock: FakeTime, alice: User
) -> None:
    settings.VOICE_AUDIO_SECONDS_PER_DAY = 10
    for _ in range(3):
        assert ratelimit.spend_audio_seconds(alice.pk, None, 3.3).allowed

    refused = ratelimit.spend_audio_seconds(alice.pk, None, 0.2)
    left = ratelimit.spend_audio_seconds(alice.pk, None, 0.1)

    assert not refused.allowed
    assert refused.retry_after == pytest.approx(86_400 - (T0 % 86_400))
    assert left.allowed and left.remaining == 0 and left.limit == 10
    clock.now += 86_400
    assert ratelimit.spend_audio_seconds(alice.pk, None, 9.9).allowed
