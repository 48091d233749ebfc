"""The rate-limit ledger: fixed epoch-aligned windows, atomic counting, pruning."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections

from tests.services.conftest import T0, FakeTime
from voice.models import RateLimitBucket
from voice.services import ratelimit
from voice.services.ratelimit import Decision, hit

pytestmark = pytest.mark.django_db


def spend(key: str, limit: int, times: int, window: int = 60) -> list[bool]:
    return [hit(key, limit, window).allowed for _ in range(times)]


# ---- hit() -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")
def test_it_allows_up_to_the_limit_then_refuses() -> None:
    assert spend("k", 3, 4) == [True, True, True, False]


@pytest.mark.usefixtures("clock")
def test_remaining_counts_down_to_zero() -> None:
    assert [hit("k", 3, 60).remaining for _ in range(4)] == [2, 1, 0, 0]


@pytest.mark.usefixtures("clock")
def test_a_refusal_says_when_the_window_resets() -> None:
    spend("k", 1, 1)

    decision = hit("k", 1, 60)

    assert decision == Decision(False, pytest.approx(29.75), 0, 1, "k")
    assert decision.retry_after_header == "30"


def test_windows_are_aligned_to_the_epoch(clock: FakeTime) -> None:
    clock.now = 1_800_000_059.999
    assert spend("k", 1, 2) == [True, False]

    clock.now = 1_800_000_060.0

    assert hit("k", 1, 60).allowed


def test_a_day_window_starts_at_midnight_utc(clock: FakeTime) -> None:
    hit("k", 5, 86_400)

    row = RateLimitBucket.objects.get()

    assert row.window_start == datetime(2027, 1, 15, tzinfo=UTC)
    assert row.expires_at == datetime(2027, 1, 16, tzinfo=UTC)


@pytest.mark.usefixtures("clock")
def test_a_cost_is_spent_whole_or_not_at_all() -> None:
    assert hit("k", 10, 60, cost=7).allowed
    assert not hit("k", 10, 60, cost=4).allowed

    assert hit("k", 10, 60, cost=3).remaining == 0


@pytest.mark.usefixtures("clock")
def test_a_cost_above_the_limit_is_refused_without_a_row() -> None:
    assert not hit("k", 2, 60, cost=3).allowed
    assert not RateLimitBucket.objects.exists()


@pytest.mark.usefixtures("clock")
def test_keys_and_window_sizes_do_not_share_counters() -> None:
    spend("a", 1, 1)

    assert hit("b", 1, 60).allowed
    assert hit("a", 1, 3600).allowed


@pytest.mark.usefixtures("clock")
def test_hit_all_gives_back_what_it_spent_when_a_later_limit_refuses() -> None:
    spend("narrow", 1, 1)

    decision = ratelimit.hit_all([("wide", 5, 60, 1), ("narrow", 1, 60, 1)])

    assert not decision.allowed and decision.key == "narrow"
    assert hit("wide", 5, 60).remaining == 4


def race(workers: int, action: Any) -> list[Any]:
    """Run ``action`` in ``workers`` threads released at once; each uses its own connection."""
    barrier = threading.Barrier(workers)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize("round_", range(3))
def test_fifty_racing_hits_on_a_new_window_allow_exactly_ten(round_: int) -> None:
    # Racing on a window nobody has hit yet also races the row's insertion. On PostgreSQL this
    # fails if counting becomes read-modify-write (35-45 allowed) or if a caller that lost the
    # insert race gives up. SQLite's single writer lock serialises the threads, so there it
    # proves the absence of "database is locked" errors.
    decisions = race(50, lambda: hit("race", 10, 60))

    assert len(decisions) == 50
    assert sum(d.allowed for d in decisions) == 10
    assert RateLimitBucket.objects.get().count == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("clock")
def test_a_caller_that_loses_the_race_to_create_the_window_still_counts() -> None:
    other: list[Decision] = []

    def interleave(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not other and sql.startswith("UPDATE") and "voice_ratelimitbucket" in sql:
            # Right after our first UPDATE missed, another caller creates the window and spends.
            other.extend(race(1, lambda: hit("k", 10, 60)))
        return result

    with connection.execute_wrapper(interleave):
        mine = hit("k", 10, 60)

    assert other[0].allowed
    assert mine.allowed
    assert RateLimitBucket.objects.get().count == 2


# ---- pruning ---------------------------------------------------------------------------------


def expired_row(key: str, ended_ago: timedelta) -> RateLimitBucket:
    end = datetime.fromtimestamp(T0, UTC) - ended_ago
    return RateLimitBucket.objects.create(
        key=key,
        window_start=end - timedelta(minutes=1),
        window_seconds=60,
        count=3,
        expires_at=end,
    )


@pytest.mark.usefixtures("clock")
def test_prune_deletes_ended_windows_only() -> None:
    hit("current", 5, 60)
    expired_row("old", timedelta(minutes=5))

    assert ratelimit.prune_expired() == 1
    assert list(RateLimitBucket.objects.values_list("key", flat=True)) == ["current/60s"]


@pytest.mark.usefixtures("clock")
def test_prune_removes_at_most_one_batch() -> None:
    for index in range(5):
        expired_row(f"old{index}", timedelta(minutes=5))

    assert ratelimit.prune_expired(batch=2) == 2
    assert RateLimitBucket.objects.count() == 3


def test_hits_prune_once_a_new_minute_begins(clock: FakeTime) -> None:
    hit("k", 5, 60)
    expired_row("old", timedelta(minutes=5))
    hit("k", 5, 60)
    assert RateLimitBucket.objects.filter(key="old").exists()  # same minute: no second prune

    clock.now += 60
    hit("k", 5, 60)

    assert not RateLimitBucket.objects.filter(key="old").exists()


@pytest.mark.usefixtures("clock")
def test_the_prune_command_clears_the_backlog_in_batches() -> None:
    hit("current", 5, 60)
    for index in range(7):
        expired_row(f"old{index}", timedelta(hours=index + 1))
    out = StringIO()

    call_command("prune_ratelimits", "--batch-size", "3", stdout=out)

    assert "Deleted 7 expired" in out.getvalue()
    assert RateLimitBucket.objects.count() == 1
