"""A scripted engine and a list sink: a ``SessionService`` driven without sockets or upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from voice.engines import base as eng
from voice.session import events as ev


class ScriptedEngine:
    """An engine whose events the test pushes; it records what the session asked of it."""

    name = "scripted"
    detects_turns = False

    def __init__(self) -> None:
        self._events: asyncio.Queue[eng.EngineEvent | None] = asyncio.Queue()
        self.calls: list[tuple[str, Any]] = []
        self.audio = bytearray()

    def emit(self, *events: eng.EngineEvent) -> None:
        for event in events:
            self._events.put_nowait(event)

    def calls_to(self, method: str) -> list[Any]:
        return [argument for name, argument in self.calls if name == method]

    async def start(self, config: eng.SessionConfig) -> None:
        self.calls.append(("start", config))

    async def update(self, config: eng.SessionConfig) -> None:
        self.calls.append(("update", config))

    async def send_audio(self, pcm: bytes) -> None:
        self.audio += pcm

    async def clear_input(self) -> None:
        self.calls.append(("clear_input", None))

    async def commit(self) -> None:
        self.calls.append(("commit", None))

    async def send_text(self, text: str) -> None:
        self.calls.append(("send_text", text))

    async def cancel(self, played_ms: int | None = None) -> None:
        self.calls.append(("cancel", played_ms))

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        self.calls.append(("submit_tool_result", (call_id, output)))

    async def events(self) -> AsyncIterator[eng.EngineEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    async def close(self) -> None:
        self._events.put_nowait(None)


class Delivered(list[ev.SessionEvent]):
    """The sink of a session: every event it delivered, in order."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Condition()

    async def __call__(self, event: ev.SessionEvent) -> None:
        async with self._changed:
            self.append(event)
            self._changed.notify_all()

    async def until(self, wanted: Callable[[ev.SessionEvent], bool]) -> ev.SessionEvent:
        """The first delivered event ``wanted`` accepts, waiting for it (5 s at most)."""

        async def found() -> ev.SessionEvent:
            async with self._changed:
                await self._changed.wait_for(lambda: any(wanted(e) for e in self))
                return next(e for e in self if wanted(e))

        return await asyncio.wait_for(found(), 5)

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [event for event in self if isinstance(event, kind)]
