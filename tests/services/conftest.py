"""Fixtures of the service tests: a wall clock for the rate-limit ledger that moves when told."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

import pytest

# 30.25 s into a UTC minute (2027-01-15 08:00:30.25).
T0 = 1_800_000_030.25


class FakeTime:
    """Stands in for the ``time`` module in ratelimit: a wall clock that moves when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[FakeTime]:
    fake = FakeTime(T0)
    with patch("voice.services.ratelimit.time", fake):
        yield fake
