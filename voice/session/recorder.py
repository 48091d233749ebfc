"""Writes a session's records in order, off the audio path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)


class Recorder:
    """A queue of ORM calls run one after another by a worker task.

    Sending audio never waits for the database; the order of writes is the order of calls.
    """

    def __init__(self, name: str) -> None:
        self._calls: asyncio.Queue[tuple[Callable[..., Any], tuple[Any, ...], bool] | None] = (
            asyncio.Queue()
        )
        self._worker = asyncio.create_task(self._run(), name=f"recorder-{name}")

    def write(self, func: Callable[..., Any], *args: Any) -> None:
        """Queue a sync ORM call (run on the database thread)."""
        self._calls.put_nowait((func, args, False))

    def notify(self, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Queue a coroutine function, run on the event loop after the writes before it."""
        self._calls.put_nowait((func, args, True))

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func`` after every queued write and return its result."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def run_and_report(*inner: Any) -> None:
            try:
                outcome: tuple[Any, BaseException | None] = (func(*inner), None)
            except Exception as exc:  # handed to the awaiting caller
                outcome = (None, exc)
            done.get_loop().call_soon_threadsafe(_settle, done, *outcome)

        self._calls.put_nowait((run_and_report, args, False))
        return await done

    async def close(self) -> None:
        """Finish every queued write, then stop."""
        self._calls.put_nowait(None)
        await self._worker

    async def _run(self) -> None:
        while (item := await self._calls.get()) is not None:
            func, args, is_async = item
            try:
                if is_async:
                    await func(*args)
                else:
                    await database_sync_to_async(func)(*args)
            except Exception:
                logger.exception("recording failed: %s", getattr(func, "__name__", func))


def _settle(done: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if done.done():
        return  # the caller was cancelled meanwhile (its session closed): nobody waits
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)
