"""Helpers of the ``openai-realtime`` engine tests: a started engine on the fake, its events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from itertools import groupby
from typing import Any

from devtools.fake_openai.openai_server import FakeOpenAI
from voice.engines.base import (
    AudioDelta,
    EngineEvent,
    EngineFailure,
    SessionConfig,
    TextDelta,
    ToolSpec,
    TranscriptDelta,
    TranscriptFinal,
    TurnDetection,
)
from voice.engines.clients import async_client
from voice.engines.realtime.engine import RECONNECT, OpenAIRealtimeEngine

FAST_RETRY = replace(RECONNECT, max_attempts=3, base_delay=0.01, max_delay=0.05)
ORDER_TOOL = ToolSpec(
    "lookup_order",
    "Find an order by number",
    {"type": "object", "properties": {"order_no": {"type": "string"}}},
)
VAD = TurnDetection()  # PROTOCOL.md section 5 defaults: 0.5 / 300 / 500


class Inbox:
    """Reads an engine's events in order; waits with a timeout, never with sleeps."""

    def __init__(self, engine: OpenAIRealtimeEngine) -> None:
        self._events = aiter(engine.events())
        self.seen: list[EngineEvent] = []

    async def until(
        self, kind: type, within: float = 5.0, where: Callable[[Any], bool] = lambda e: True
    ) -> list[EngineEvent]:
        """Events up to and including the first ``kind`` that matches ``where``."""
        got: list[EngineEvent] = []
        async with asyncio.timeout(within):
            while True:
                event = await anext(self._events)
                self.seen.append(event)
                got.append(event)
                if isinstance(event, kind) and where(event):
                    return got


@asynccontextmanager
async def running(
    fake: FakeOpenAI, config: SessionConfig | None = None, *, api_key: str | None = None, **kw: Any
) -> AsyncIterator[tuple[OpenAIRealtimeEngine, Inbox]]:
    """A started engine on the fake, closed afterwards."""
    client = async_client(api_key=api_key or fake.api_key, base_url=fake.base_url, max_retries=0)
    kw.setdefault("retry", FAST_RETRY)
    engine = OpenAIRealtimeEngine(client, model="gpt-realtime", **kw)
    inbox = Inbox(engine)
    try:
        await engine.start(config or SessionConfig(session_id="test"))
        yield engine, inbox
    finally:
        await engine.close()


async def speak(engine: OpenAIRealtimeEngine, pcm: bytes, frame_ms: int = 20) -> None:
    """Feed audio as a transport does: one small frame at a time."""
    step = 48 * frame_ms
    for i in range(0, len(pcm), step):
        await engine.send_audio(pcm[i : i + step])


def sent(fake: FakeOpenAI, kind: str, connection: int | None = None) -> list[dict[str, Any]]:
    """Client events of one type the fake received (optionally on one socket)."""
    return [
        e.event
        for e in fake.records.ws_events
        if e.type == kind and (connection is None or e.connection == connection)
    ]


def shape(events: list[EngineEvent]) -> list[str]:
    """Event kinds with runs of deltas squashed, transcripts left out."""
    names = [
        "Delta" if isinstance(e, TextDelta | AudioDelta) else type(e).__name__
        for e in events
        if not isinstance(e, TranscriptDelta | TranscriptFinal)
    ]
    return [name for name, _ in groupby(names)]


def failures(events: list[EngineEvent]) -> list[EngineFailure]:
    return [e for e in events if isinstance(e, EngineFailure)]


def audio_of(events: list[EngineEvent]) -> bytes:
    return b"".join(e.pcm for e in events if isinstance(e, AudioDelta))
