"""Writes a session's records in order, off the audio path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)


class Recorder:
    """A queue of ORM calls run one after another by a worker task.

    Sending audio never waits for the database; the order of writes is the order of calls.
    """

    def __init__(self, name: str) -> None:
        self._calls: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._worker = asyncio.create_task(self._run(), name=f"recorder-{name}")

    def write(self, func: Callable[..., Any], *args: Any) -> None:
        """Queue a sync ORM call (run on the database thread)."""
        self._calls.put_nowait(_Item(func, args))

    def notify(self, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Queue a coroutine function, run on the event loop after the writes before it."""
        self._calls.put_nowait(_Item(func, args, is_async=True))

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func`` after every queued write and return its result."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls.put_nowait(_Item(func, args, answer=answer))
        return await answer

    async def close(self) -> None:
        """Finish every queued write, then stop."""
        self._calls.put_nowait(None)
        await self._worker

    async def _run(self) -> None:
        while (item := await self._calls.get()) is not None:
            try:
                if item.is_async:
                    result = await item.func(*item.args)
                else:
                    result = await database_sync_to_async(item.func)(*item.args)
            except Exception as exc:
                # A caller hears of any failure, the database thread's own included: an
                # unanswered call would hang the session that awaits it.
                if item.answer is None:
                    logger.exception("recording failed: %s", getattr(item.func, "__name__", item))
                elif not item.answer.done():
                    item.answer.set_exception(exc)
            else:
                # A caller cancelled meanwhile (its session closed) is waited for by nobody.
                if item.answer is not None and not item.answer.done():
                    item.answer.set_result(result)


@dataclass(frozen=True)
class _Item:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    is_async: bool = False
    answer: asyncio.Future[Any] | None = None
