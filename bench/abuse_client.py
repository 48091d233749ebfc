"""A hostile client's socket for ``bench/abuse.py``: it counts every error code and close it
hears, so an attack's row can say what the server answered."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

JSON_PATH = "/api/voice/ws"
STREAM_PATH = "/voice-ws"


def error_code(message: str | bytes) -> str | None:
    """The contract error code of a server message on either socket, or None."""
    if isinstance(message, bytes):
        return None
    data = json.loads(message)
    if data.get("type") != "error":
        return None
    return str(data.get("code") or (data.get("metadata") or {}).get("error"))


class Client:
    """One socket and everything it heard: ``heard`` counts ``error <code>``, ``close <code>``."""

    def __init__(self, ws: ClientConnection | None, heard: Counter[str], stream: bool) -> None:
        self.ws = ws
        self.heard = heard
        self.stream = stream  # /voice-ws: its pings carry `data`, the JSON socket's `payload`
        self.closed: int | None = None if ws is not None else 0
        self._pings = 0

    @classmethod
    async def open(cls, ws_url: str, path: str, token: str | None = None) -> Client:
        """Connect (refusals are counted as ``HTTP <status>``), then wait for the greeting."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        heard: Counter[str] = Counter()
        try:
            ws = await connect(
                ws_url + path,
                additional_headers=headers,
                max_size=None,
                ping_interval=None,
                open_timeout=20,
            )
        except InvalidStatus as exc:
            heard[f"HTTP {exc.response.status_code}"] += 1
            return cls(None, heard, path == STREAM_PATH)
        client = cls(ws, heard, path == STREAM_PATH)
        if token:
            await client.until({"connected", "ready"})
        return client

    async def recv(self, within: float) -> str | bytes | None:
        """The next message, counting it; None once closed or after ``within`` seconds."""
        if self.ws is None or self.closed is not None:
            return None
        try:
            message = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            self.closed = exc.rcvd.code if exc.rcvd is not None else 1006
            self.heard[f"close {self.closed}"] += 1
            return None
        if (code := error_code(message)) is not None:
            self.heard[f"error {code}"] += 1
        return message

    async def until(self, types: set[str], within: float = 20.0) -> dict[str, Any] | None:
        """Read until a message of one of ``types``; None if the socket closed or went quiet."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            message = await self.recv(left)
            if message is None:
                return None
            if isinstance(message, str) and (data := json.loads(message))["type"] in types:
                return dict(data)
        return None

    async def send(self, message: str | bytes | dict[str, Any]) -> bool:
        """Send; False once the server has closed the socket."""
        if self.ws is None or self.closed is not None:
            return False
        try:
            await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)
        except ConnectionClosed:
            return False  # whoever reads next collects the close code
        return True

    async def alive(self, within: float = 10.0) -> bool:
        """Whether the socket still answers a ``ping`` (messages before the pong are counted)."""
        self._pings += 1
        payload = f"alive-{self._pings}"
        field = "data" if self.stream else "payload"
        if not await self.send({"type": "ping", field: payload}):
            await self.recv(1.0)  # collects the close code
            return False
        pong = await self.until({"pong"}, within)
        return pong is not None and pong.get(field) == payload

    async def answer(self, message: str | bytes | dict[str, Any]) -> Counter[str]:
        """What the server says to one message: what it counted before a following pong."""
        before = Counter(self.heard)
        await self.send(message)
        if not await self.alive() and self.closed is None:
            self.heard["no answer"] += 1
        return self.heard - before

    async def wait_closed(self, within: float) -> int | None:
        """The close code if the server closes within ``within`` seconds, else None."""
        deadline = time.monotonic() + within
        while self.closed is None and (left := deadline - time.monotonic()) > 0:
            await self.recv(left)
        return self.closed

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def render(heard: Counter[str]) -> str:
    """``error rate_limited x3, close 4429`` (most frequent first)."""
    parts = [f"{what} x{n}" if n > 1 else what for what, n in heard.most_common() if n > 0]
    return ", ".join(parts) or "nothing"
