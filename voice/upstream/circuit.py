"""A circuit breaker whose state every server process shares through the Django cache.

Closed: calls go through and consecutive failures are counted. After ``failure_threshold`` of
them the circuit opens: calls fail fast for ``cooldown_seconds``. Then it is half-open: exactly
one caller (an atomic ``cache.add`` is the lock) may probe upstream; success closes the circuit,
failure opens it for another cool-down. With ``REDIS_URL`` set the cache is Redis, so all
processes see one circuit; without it each process has its own (LocMem).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import BaseCache, cache

logger = logging.getLogger(__name__)

# A caller refused because another caller is probing is told to come back this soon.
PROBE_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class Admission:
    """Whether a call may go upstream now; ``probe`` marks the single half-open trial call."""

    allowed: bool
    retry_after: float = 0.0
    probe: bool = False


class CircuitBreaker:
    """Counts upstream failures in the shared cache and fails fast while they persist."""

    def __init__(
        self,
        name: str,
        failure_threshold: int,
        cooldown_seconds: float,
        *,
        probe_timeout: float = 30.0,
        store: BaseCache | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        # A probe that never reports back (its process died) frees the lock after this long.
        self.probe_timeout = probe_timeout
        self.store = store if store is not None else cache
        # Wall-clock time, because processes compare each other's timestamps.
        self.clock = clock or time.time
        self._failures_key = f"voice:circuit:{name}:failures"
        self._opened_key = f"voice:circuit:{name}:opened_at"
        self._probe_key = f"voice:circuit:{name}:probe"

    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        opened_at = self.store.get(self._opened_key)
        if opened_at is None:
            return "closed"
        return "open" if self.clock() < opened_at + self.cooldown_seconds else "half-open"

    def admit(self) -> Admission:
        """Ask before calling upstream."""
        opened_at = self.store.get(self._opened_key)
        if opened_at is None:
            return Admission(True)
        reopens_in = opened_at + self.cooldown_seconds - self.clock()
        if reopens_in > 0:
            return Admission(False, retry_after=reopens_in)
        if self.store.add(self._probe_key, 1, timeout=self.probe_timeout):
            logger.info("circuit %s half-open: letting one probe through", self.name)
            return Admission(True, probe=True)
        return Admission(False, retry_after=PROBE_RETRY_AFTER)

    def record_success(self, admission: Admission) -> None:
        """The call succeeded: close the circuit and forget past failures."""
        if admission.probe or self.store.get(self._opened_key) is not None:
            logger.info("circuit %s closed: upstream answered", self.name)
        self.store.delete_many([self._failures_key, self._opened_key, self._probe_key])

    def record_failure(self, admission: Admission) -> None:
        """The call failed in a way that says upstream is unavailable."""
        if admission.probe:
            # The trial failed: a fresh cool-down starts now.
            self.store.set(self._opened_key, self.clock(), timeout=None)
            self.store.delete(self._probe_key)
            logger.warning("circuit %s probe failed: open again", self.name)
            return
        failures = self._count_failure()
        # add(): of several failures crossing the threshold at once, the first one stamps the time.
        if failures >= self.failure_threshold and self.store.add(
            self._opened_key, self.clock(), timeout=None
        ):
            logger.warning(
                "circuit %s open after %d consecutive failures, for %.0f s",
                self.name,
                failures,
                self.cooldown_seconds,
            )

    def release(self, admission: Admission) -> None:
        """The call ended in a way that says nothing about availability (e.g. a bad key)."""
        if admission.probe:
            self.store.delete(self._probe_key)

    def reset(self) -> None:
        """Close the circuit by hand (operators, tests)."""
        self.store.delete_many([self._failures_key, self._opened_key, self._probe_key])

    def _count_failure(self) -> int:
        self.store.add(self._failures_key, 0, timeout=None)
        try:
            return self.store.incr(self._failures_key)
        except ValueError:  # a success deleted the counter between add() and incr()
            return 1
