"""The limits a live connection is held to, on a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from voice.models import RateLimitBucket
from voice.session.limits import (
    AudioBudget,
    MessageRate,
    Throttle,
    TokenBucket,
    UsageLimits,
    Verdict,
)


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_bucket_starts_full_and_refuses_once_empty(clock: Clock) -> None:
    bucket = TokenBucket(rate=10, burst=3, clock=clock)

    taken = [bucket.take() for _ in range(4)]

    assert taken == [True, True, True, False]


def test_a_bucket_refills_at_its_rate_up_to_its_burst(clock: Clock) -> None:
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert bucket.take(3)

    clock.now += 0.1
    refilled_one = [bucket.take(), bucket.take()]
    clock.now += 60
    after_a_minute = bucket.take(3), bucket.take()

    assert refilled_one == [True, False]
    assert after_a_minute == (True, False)


def test_a_bucket_refuses_more_than_it_holds_without_spending(clock: Clock) -> None:
    bucket = TokenBucket(rate=1, burst=5, clock=clock)

    assert not bucket.take(6)
    assert bucket.take(5)


def test_messages_within_the_burst_are_ok(clock: Clock) -> None:
    rate = MessageRate(rate=100, burst=300, grace=2.0, clock=clock)

    assert {rate.check() for _ in range(300)} == {Verdict.OK}


def test_a_flood_is_limited_once_then_dropped(clock: Clock) -> None:
    rate = MessageRate(rate=100, burst=3, grace=2.0, clock=clock)
    for _ in range(3):
        rate.check()

    verdicts = [rate.check() for _ in range(3)]

    assert verdicts == [Verdict.LIMITED, Verdict.DROPPED, Verdict.DROPPED]


def test_a_flood_is_closed_once_nothing_got_through_for_longer_than_the_grace(
    clock: Clock,
) -> None:
    rate = MessageRate(rate=0.1, burst=1, grace=2.0, clock=clock)
    rate.check()
    verdicts = []

    for _ in range(18):  # eight messages a second, against one every ten seconds
        verdicts.append(rate.check())
        clock.now += 0.125

    assert verdicts[0] is Verdict.LIMITED
    assert set(verdicts[1:17]) == {Verdict.DROPPED}  # up to 2 s after the first refusal
    assert verdicts[17] is Verdict.CLOSE


def test_a_client_that_slows_down_is_told_again_at_its_next_flood(clock: Clock) -> None:
    rate = MessageRate(rate=10, burst=1, grace=2.0, clock=clock)
    rate.check()
    assert rate.check() is Verdict.LIMITED

    clock.now += 1.0
    recovered = rate.check()
    flooding_again = rate.check()

    assert recovered is Verdict.OK
    assert flooding_again is Verdict.LIMITED


def test_a_flood_living_on_the_trickle_of_refills_is_told_once_then_closed(clock: Clock) -> None:
    rate = MessageRate(rate=10, burst=3, grace=2.0, clock=clock)
    verdicts = []

    for _ in range(300):  # a hundred messages a second for three seconds, against ten
        verdicts.append(rate.check())
        clock.now += 0.01

    assert verdicts.count(Verdict.LIMITED) == 1
    assert Verdict.OK in verdicts[4:200]  # the trickle got through ...
    assert Verdict.CLOSE not in verdicts[:200]  # ... for the grace period ...
    assert Verdict.CLOSE in verdicts[200:]  # ... and did not buy the client more time


def test_a_client_just_over_its_rate_is_closed_after_the_grace(clock: Clock) -> None:
    rate = MessageRate(rate=100, burst=300, grace=2.0, clock=clock)
    verdicts = []

    for _ in range(1500):  # 150 a second for ten seconds
        verdicts.append(rate.check())
        clock.now += 1 / 150

    first_refusal = verdicts.index(Verdict.LIMITED)
    assert verdicts.count(Verdict.LIMITED) == 1
    assert Verdict.CLOSE in verdicts[first_refusal:]


def test_a_throttle_lets_one_through_per_interval(clock: Clock) -> None:
    throttle = Throttle(1.0, clock=clock)

    burst = [throttle.due() for _ in range(3)]
    clock.now += 0.5
    too_soon = throttle.due()
    clock.now += 0.5
    a_second_later = throttle.due()

    assert burst == [True, False, False]
    assert not too_soon
    assert a_second_later


def test_audio_may_run_ahead_of_real_time_by_the_burst(clock: Clock) -> None:
    budget = AudioBudget(burst_seconds=5, refill=1.5, clock=clock)

    assert budget.spend(5000)
    assert not budget.spend(20)


def test_the_audio_budget_refills_faster_than_real_time(clock: Clock) -> None:
    budget = AudioBudget(burst_seconds=5, refill=1.5, clock=clock)
    budget.spend(5000)

    clock.now += 1.0

    assert budget.spend(1500)
    assert not budget.spend(20)


@pytest.mark.django_db(transaction=True)
class TestUsageLimits:
    """The per-user limits kept in the rate-limit ledger."""

    @pytest.fixture
    def refusals(self) -> list[str]:
        return []

    @pytest.fixture
    def limits(self, alice: User, clock: Clock, refusals: list[str]) -> UsageLimits:
        async def tell_the_client() -> None:
            refusals.append("rate_limited")

        return UsageLimits(alice.pk, "127.0.0.1", tell_the_client, clock=clock)

    async def test_utterances_past_the_limit_are_refused_and_the_client_told_once(
        self, settings: Any, limits: UsageLimits, refusals: list[str], clock: Clock
    ) -> None:
        settings.VOICE_UTTERANCES_PER_MINUTE = 2

        answers = [await limits.utterance() for _ in range(4)]

        assert answers == [True, True, False, False]
        assert refusals == ["rate_limited"]
        assert limits.refusing()

    async def test_a_refusal_holds_until_the_window_resets_without_asking_the_ledger(
        self, settings: Any, limits: UsageLimits, clock: Clock
    ) -> None:
        settings.VOICE_UTTERANCES_PER_MINUTE = 1
        await limits.utterance()
        await limits.utterance()
        counted = await ledger_total()

        await limits.utterance()
        asked_again = await ledger_total() != counted
        clock.now += 61

        assert not asked_again
        assert not limits.refusing()

    async def test_streamed_audio_is_charged_once_against_the_daily_allowance(
        self, settings: Any, limits: UsageLimits, refusals: list[str]
    ) -> None:
        settings.VOICE_AUDIO_SECONDS_PER_DAY = 2
        limits.audio_ms += 1500
        await limits.charge_audio()
        await limits.charge_audio()  # nothing new streamed: nothing charged
        allowed = not limits.refusing()

        limits.audio_ms += 1000
        await limits.charge_audio()

        assert allowed
        assert await ledger_total() == 1500
        assert refusals == ["rate_limited"]
        assert limits.refusing()


@database_sync_to_async
def ledger_total() -> int:
    return sum(RateLimitBucket.objects.values_list("count", flat=True))
