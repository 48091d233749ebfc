"""The session recorder: writes in call order, answers to callers, and cancelled callers."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from voice.session.recorder import Recorder

# Sync calls run through database_sync_to_async, which checks the database thread's connection.
pytestmark = pytest.mark.django_db


async def test_writes_run_in_order_and_call_returns_after_them() -> None:
    recorder = Recorder("order")
    done: list[str] = []

    recorder.write(done.append, "first")
    recorder.write(done.append, "second")
    result = await recorder.call(lambda: [*done, "call"])
    await recorder.close()

    assert result == ["first", "second", "call"]


async def test_a_failing_call_raises_in_its_caller() -> None:
    recorder = Recorder("failing")

    def fail() -> None:
        raise ValueError("no such row")

    with pytest.raises(ValueError, match="no such row"):
        await recorder.call(fail)
    await recorder.close()


async def test_a_caller_cancelled_mid_call_gets_no_late_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder("cancelled")
    started, release = threading.Event(), threading.Event()

    def slow_beat() -> bool:
        started.set()
        release.wait(5)
        return True

    caller = asyncio.create_task(recorder.call(slow_beat))
    assert await asyncio.to_thread(started.wait, 5)
    caller.cancel()  # the session closes while its heartbeat is being written
    release.set()
    with caplog.at_level(logging.ERROR):
        await recorder.close()  # the call finishes after its caller has gone

    assert caller.cancelled()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
