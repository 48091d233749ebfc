"""The socket of a Realtime session: opened with retries, read until it closes, written raw."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.exceptions import ConnectionClosed

from voice.engines.realtime.state import connect_failure
from voice.upstream.backoff import RetryPolicy
from voice.upstream.errors import describe

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0
STABLE_AFTER_S = 10.0  # a connection that lived this long resets the attempt budget

T = TypeVar("T")


class UpstreamLostError(Exception):
    """The Realtime connection is gone and cannot be restored."""


class RealtimeLink:
    """One Realtime socket at a time, and the budget of attempts to open the next one."""

    def __init__(self, client: AsyncOpenAI, model: str, retry: RetryPolicy) -> None:
        self.client = client
        self.model = model
        self.retry = retry  # only its attempts and delays: reconnecting has no time budget
        self.session_id = ""  # for the logs
        self.conn: AsyncRealtimeConnection | None = None
        self._attempts = 0  # connection attempts since the last stable connection
        self._connected_at = 0.0

    async def open(
        self, setup: Callable[[AsyncRealtimeConnection], Awaitable[T]], *, delay_first: bool
    ) -> T:
        """Open a socket and ``setup`` it; retry transient faults, else ``UpstreamLostError``."""
        message = "The AI service could not be reached."
        while self._attempts < self.retry.max_attempts:
            self._attempts += 1
            if delay_first or self._attempts > 1:
                await asyncio.sleep(self.retry.delay(self._attempts))
            conn: AsyncRealtimeConnection | None = None
            try:
                conn = await self.client.realtime.connect(model=self.model).enter()
                done = await setup(conn)
            except BaseException as exc:
                if conn is not None:
                    await _close(conn)
                if not isinstance(exc, Exception):
                    raise  # cancelled
                retryable, message = connect_failure(exc)
                logger.warning(
                    "realtime connect attempt %d of %s failed: %s",
                    self._attempts,
                    self.session_id,
                    describe(exc),
                )
                if not retryable:
                    raise UpstreamLostError(message) from exc
                continue
            self.conn, self._connected_at = conn, asyncio.get_running_loop().time()
            return done
        raise UpstreamLostError(message)

    def restart_budget(self) -> None:
        """The next failure is no fault of the last connection: all attempts are available."""
        self._attempts = 0

    async def read(
        self, conn: AsyncRealtimeConnection, handle: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> int:
        """Hand each server event to ``handle`` until the socket closes; return its close code.

        The link has no socket afterwards: ``open`` makes the next one.
        """
        loop = asyncio.get_running_loop()
        try:
            while True:
                raw = await conn.recv_bytes()
                try:
                    event = json.loads(raw)
                except ValueError:
                    logger.warning("unparseable realtime event in %s", self.session_id)
                    continue
                if not isinstance(event, dict):
                    continue
                # A socket proves itself by an answer or by time: then the budget starts afresh.
                stable = loop.time() - self._connected_at > STABLE_AFTER_S
                if event.get("type") == "response.done" or stable:
                    self._attempts = 0
                await handle(event)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
        except OSError:
            code = 1006
        if self.conn is conn:
            self.conn = None
        return code

    async def send(self, event: dict[str, Any]) -> bool:
        """Send one client event; False without a live socket (the reader handles drops).

        Our events are already in wire shape: ``send_raw`` skips the SDK's typed transform,
        which costs ~0.2 ms of CPU per event (audio appends go out 25 times a second).
        """
        conn = self.conn
        if conn is None:
            return False
        try:
            await conn.send_raw(json.dumps(event))
        except (ConnectionClosed, OSError) as exc:
            logger.debug("realtime send of %s failed: %s", event.get("type"), describe(exc))
            return False
        return True

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            await _close(conn)


async def _close(conn: AsyncRealtimeConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)
