"""Flooding a socket over the real stack: send as fast as the server takes it, read what it says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.testing import WebsocketCommunicator

FAST_FLOOD = {  # a small rate, so a flood outruns its refills within a test's second
    "VOICE_MESSAGE_RATE": 10.0,
    "VOICE_MESSAGE_BURST": 3,
    "VOICE_FLOOD_GRACE_SECONDS": 0.5,
}


@dataclass
class FloodOutcome:
    answers: list[dict[str, Any]] = field(default_factory=list)  # text messages received
    close_code: int | None = None  # None: still open when the flood stopped
    seconds: float = 0.0  # how long the flood went on

    def errors(self, code: str) -> list[dict[str, Any]]:
        """The ``error`` answers of ``code``, on either wire."""
        return [
            a
            for a in self.answers
            if a["type"] == "error" and code in (a.get("code"), a.get("metadata", {}).get("error"))
        ]


async def flood(
    ws: WebsocketCommunicator, send: Callable[[], Awaitable[None]], within: float = 5.0
) -> FloodOutcome:
    """Send five messages every 10 ms until the server closes or ``within`` seconds pass."""
    loop = asyncio.get_running_loop()
    outcome = FloodOutcome()
    started = loop.time()
    while outcome.close_code is None and loop.time() - started < within:
        for _ in range(5):
            await send()
        # receive_nothing waits without cancelling the application, as receive_output would.
        while outcome.close_code is None and not await ws.receive_nothing(0.01):
            output = await ws.receive_output()
            if output["type"] == "websocket.close":
                outcome.close_code = output.get("code", 1000)
            elif output.get("text") is not None:
                outcome.answers.append(json.loads(output["text"]))
    outcome.seconds = loop.time() - started
    return outcome
