"""Per-connection flow limits: message rate and real-time audio burst (PROTOCOL.md 2, 3, 7)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._clock = clock
        self._at = clock()

    def take(self, amount: float = 1.0) -> bool:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.rate)
        self._at = now
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True


class MessageRate:
    """Messages per second with a burst; a client still flooding ``grace`` s after its first
    ``rate_limited`` error is to be closed (4429)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        grace: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bucket = TokenBucket(rate, burst, clock)
        self._grace = grace
        self._clock = clock
        self._limited_since: float | None = None

    def check(self) -> str:
        """``ok``, ``limited`` (answer with an error) or ``close``."""
        if self._bucket.take():
            self._limited_since = None
            return "ok"
        now = self._clock()
        if self._limited_since is None:
            self._limited_since = now
            return "limited"
        return "close" if now - self._limited_since > self._grace else "dropped"


class AudioBudget:
    """Audio may run ahead of real time by ``burst_seconds``, refilled at ``refill`` x real time."""

    def __init__(
        self, burst_seconds: float, refill: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._bucket = TokenBucket(refill * 1000.0, burst_seconds * 1000.0, clock)

    def spend(self, audio_ms: float) -> bool:
        """False when the client is flooding (the connection is to be closed with 4429)."""
        return self._bucket.take(audio_ms)
