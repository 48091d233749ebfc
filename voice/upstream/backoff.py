"""When to try an upstream call again: exponential backoff with jitter, bounded in tries and time.

The server's own hints win over the formula: ``retry-after-ms`` (milliseconds), then
``retry-after`` (seconds or an HTTP date), read as the OpenAI SDK reads them. The clock, the
sleep and the random source are fields, so tests can drive the policy without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from django.conf import settings

# A hinted wait is stretched by up to this share, so clients told the same "retry-after" by
# a rate-limited upstream do not all come back in the same instant.
HINT_JITTER = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how long in total, and how long between two attempts."""

    max_attempts: int = 3
    time_budget: float = 10.0  # seconds from the first attempt; no sleep may end past it
    base_delay: float = 0.5  # first backoff, doubled on each retry
    max_delay: float = 8.0
    jitter: float = 0.5  # a computed delay d becomes uniform in [(1 - jitter) * d, d]
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        """The policy for minting ephemeral keys (``VOICE_KEY_MINT_*`` settings)."""
        # Looked up at call time, so a test that patches this module's clock is obeyed.
        return cls(
            max_attempts=settings.VOICE_KEY_MINT_ATTEMPTS,
            time_budget=settings.VOICE_KEY_MINT_TIME_BUDGET,
            base_delay=settings.VOICE_KEY_MINT_BACKOFF,
            sleep=time.sleep,
            random=random.random,
            clock=time.monotonic,
        )

    def delay(self, retry: int, hint: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 = the first retry)."""
        if hint is not None:
            return hint * (1 + HINT_JITTER * self.random())
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling * (1 - self.jitter * self.random())


def retry_after_from(headers: Mapping[str, str]) -> float | None:
    """The wait an HTTP response asks for, in seconds, or None when it names none."""
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    raw = headers.get("retry-after")
    seconds = _number(raw)
    if seconds is None and raw:
        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return seconds if seconds is not None and seconds >= 0 else None


def should_retry_from(headers: Mapping[str, str]) -> bool | None:
    """OpenAI's ``x-should-retry`` override: True, False, or None when absent."""
    value = (headers.get("x-should-retry") or "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _number(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and value != float("inf") else None  # no NaN, no inf
