"""Every limit a live connection is held to (PROTOCOL.md sections 2, 3 and 7).

Per connection, in memory: the message rate and the real-time audio burst. Per user, through
the rate-limit ledger: utterances and daily audio.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import Enum

from channels.db import database_sync_to_async

from voice.services import ratelimit

Check = Callable[[int | None, str | None], ratelimit.Decision]


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
        self.refill()
        if self.tokens < amount:
            return False
        self.tokens -= amount
        return True

    def refill(self) -> float:
        """Add what has trickled in since the last look; the tokens now held."""
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.rate)
        self._at = now
        return self.tokens


class Verdict(Enum):
    """What to do with one message of a client under a message rate."""

    OK = "ok"  # handle it
    LIMITED = "limited"  # drop it and answer with a rate_limited error
    DROPPED = "dropped"  # drop it silently (the client has been told)
    CLOSE = "close"  # still flooding after the grace period: close with 4429


class MessageRate:
    """Messages per second with a burst, judged by flood episode.

    An episode starts at the first refused message and lasts until the bucket is full again,
    so the trickle of refills a flooding client lives on neither ends it nor earns another
    ``rate_limited``. A client still being refused ``grace`` s into an episode is to be closed.
    """

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
        self._limited_since: float | None = None  # start of the current flood episode

    def check(self) -> Verdict:
        if self._limited_since is not None and self._bucket.refill() >= self._bucket.burst:
            self._limited_since = None  # the client calmed down for a whole burst
        if self._bucket.take():
            return Verdict.OK
        now = self._clock()
        if self._limited_since is None:
            self._limited_since = now
            return Verdict.LIMITED
        return Verdict.CLOSE if now - self._limited_since > self._grace else Verdict.DROPPED


class Throttle:
    """Lets something happen at most once per ``interval`` seconds (an error notice, say)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return False
        self._last = now
        return True


class AudioBudget:
    """Audio may run ahead of real time by ``burst_seconds``, refilled at ``refill`` x real time."""

    def __init__(
        self, burst_seconds: float, refill: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._bucket = TokenBucket(refill * 1000.0, burst_seconds * 1000.0, clock)

    def spend(self, audio_ms: float) -> bool:
        """False when the client is flooding (the session is to end)."""
        return self._bucket.take(audio_ms)


class UsageLimits:
    """Asks the rate-limit ledger before each utterance and for the audio streamed.

    After a refusal the session refuses locally until the window resets, so a client that keeps
    talking costs no further database writes and hears about it once.
    """

    def __init__(
        self,
        user_id: int | None,
        client_ip: str | None,
        on_refused: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_id = user_id
        self.client_ip = client_ip
        self._on_refused = on_refused
        self._clock = clock
        self._refused_until = 0.0  # clock seconds
        self.audio_ms = 0  # streamed so far
        self._charged_ms = 0

    def refusing(self) -> bool:
        return self._clock() < self._refused_until

    async def admit(self, check: Check) -> bool:
        """Apply a limit; on refusal tell the client and refuse until it resets."""
        if self.refusing():
            return False
        decision = await database_sync_to_async(check)(self.user_id, self.client_ip)
        if decision.allowed:
            return True
        self._refused_until = self._clock() + decision.retry_after
        await self._on_refused()
        return False

    async def utterance(self) -> bool:
        return await self.admit(ratelimit.check_utterance)

    async def charge_audio(self) -> None:
        """Spend the audio streamed since the last charge from the daily allowance."""
        spent_ms = self.audio_ms - self._charged_ms
        if spent_ms <= 0:
            return
        self._charged_ms = self.audio_ms
        await self.admit(
            lambda user_id, ip: ratelimit.spend_audio_seconds(user_id, ip, spent_ms / 1000)
        )
