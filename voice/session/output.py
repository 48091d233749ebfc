"""The one way out of a session: events in order, and nothing more of a cancelled response."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from voice.session import events as ev
from voice.session.clock import now_ms

Sink = Callable[[ev.SessionEvent], Awaitable[None]]


class Output:
    """Hands session events to the transport's sink one at a time."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._lock = asyncio.Lock()
        # Responses cut off by a barge-in whose end the engine has not reported yet.
        self._cancelled: set[str] = set()

    def is_cancelled(self, response_id: str) -> bool:
        return response_id in self._cancelled

    def forget(self, response_id: str) -> None:
        """The engine finished a cancelled response: its id will not come again."""
        self._cancelled.discard(response_id)

    async def send(self, event: ev.SessionEvent) -> None:
        """Deliver an event, unless it belongs to a cancelled response."""
        async with self._lock:
            response_id = getattr(event, "response_id", None)
            if response_id is not None and response_id in self._cancelled:
                return
            await self._sink(event)

    async def cancel(self, response_id: str, signalled_at: float) -> None:
        """Drop the rest of a response and tell the client its output stopped."""
        self._cancelled.add(response_id)
        async with self._lock:  # waits for a frame already being written
            latency = now_ms() - signalled_at
            await self._sink(ev.BargeIn(response_id, latency))
            await self._sink(ev.AudioComplete(response_id))
