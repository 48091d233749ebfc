"""The server's own added time per relayed audio frame: upstream receipt -> client socket."""

from __future__ import annotations

from collections import deque

import numpy as np

SAMPLES = 5000  # the most recent frames a session keeps for its percentiles


class RelayStats:
    """Recent relay times of one session, in milliseconds."""

    def __init__(self) -> None:
        self._ms: deque[float] = deque(maxlen=SAMPLES)
        self.frames = 0

    def add(self, ms: float) -> None:
        self._ms.append(ms)
        self.frames += 1

    def summary(self) -> dict[str, float | int]:
        """Fields of the session row; empty when no audio was relayed."""
        if not self._ms:
            return {}
        values = np.fromiter(self._ms, dtype=float)
        p50, p99 = np.percentile(values, [50, 99])
        return {
            "relay_frames": self.frames,
            "relay_p50_ms": round(float(p50), 3),
            "relay_p99_ms": round(float(p99), 3),
            "relay_max_ms": round(float(values.max()), 3),
        }
