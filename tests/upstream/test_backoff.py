"""The one retry policy: exponential backoff with jitter, and the server's own hints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from voice.upstream.backoff import RetryPolicy, retry_after_from, should_retry_from


def test_delays_double_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, random=lambda: 0.0)

    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(("jitter", "shortest"), [(0.5, 1.0), (0.25, 1.5)])
def test_jitter_shortens_a_delay_by_at_most_its_share(jitter: float, shortest: float) -> None:
    longest = RetryPolicy(base_delay=2.0, jitter=jitter, random=lambda: 0.0)
    least = RetryPolicy(base_delay=2.0, jitter=jitter, random=lambda: 1.0)

    assert (least.delay(1), longest.delay(1)) == (shortest, 2.0)


def test_a_hint_wins_over_the_formula_and_is_stretched_a_little() -> None:
    policy = RetryPolicy(base_delay=0.5, random=lambda: 1.0)

    assert policy.delay(4, hint=2.0) == pytest.approx(2.2)


def test_the_key_mint_policy_comes_from_the_settings(settings: Any) -> None:
    settings.VOICE_KEY_MINT_ATTEMPTS = 4
    settings.VOICE_KEY_MINT_TIME_BUDGET = 7.5
    settings.VOICE_KEY_MINT_BACKOFF = 0.2

    policy = RetryPolicy.from_settings()

    assert (policy.max_attempts, policy.time_budget, policy.base_delay) == (4, 7.5, 0.2)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_as_the_sdk_reads_it(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_from(headers) == seconds


def test_retry_after_may_be_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert retry_after_from({"retry-after": when}) == pytest.approx(30, abs=2)


@pytest.mark.parametrize(
    ("value", "verdict"), [("true", True), ("False", False), ("", None), ("maybe", None)]
)
def test_the_should_retry_header_overrides_when_present(value: str, verdict: bool | None) -> None:
    assert should_retry_from({"x-should-retry": value}) is verdict
