"""Streaming HTTP bodies (SSE or chunked audio) with scripted mid-stream faults."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from .faults import StreamFault
from .records import RECORD_KEY

logger = logging.getLogger(__name__)


async def wait_from_arrival(request: web.Request, delay_ms: float) -> None:
    """Wait until ``delay_ms`` after the request arrived.

    A configured latency is the service's whole time to answer, so the fake's own work on the
    request (parsing the upload, decoding it, synthesizing speech) counts towards it.
    """
    remaining = request[RECORD_KEY].received_at + delay_ms / 1000 - time.monotonic()
    if remaining > 0:
        await asyncio.sleep(remaining)


class StreamCutError(Exception):
    """The fake dropped the connection on purpose; the handler should just return."""


class FaultyStream:
    """A chunked response that can be cut (no terminator) or end with an SSE error object."""

    def __init__(self, request: web.Request, fault: StreamFault | None) -> None:
        self.request = request
        self.fault = fault if fault and fault.kind in ("cut", "sse_error") else None
        self.response: web.StreamResponse | None = None
        self.sent = 0
        self.ended = False

    async def start(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.response = web.StreamResponse(status=200, headers=headers)
        self.response.content_type = content_type
        self.response.enable_chunked_encoding()
        await self.response.prepare(self.request)

    async def send_event(self, data: dict[str, Any]) -> bool:
        """Write one `data: <json>` event. False once the stream ended (stop producing)."""
        return await self._send(f"data: {json.dumps(data)}\n\n".encode())

    async def send_bytes(self, chunk: bytes) -> bool:
        """Write one body chunk. False once the stream ended (stop producing)."""
        return await self._send(chunk)

    async def finish(self, done_marker: bool = False) -> web.StreamResponse:
        """End normally (optionally with `data: [DONE]`) unless a fault is still pending."""
        assert self.response is not None
        await self._apply_fault()
        if not self.ended:
            if done_marker:
                await self.response.write(b"data: [DONE]\n\n")
            await self.response.write_eof()
        return self.response

    async def _send(self, payload: bytes) -> bool:
        assert self.response is not None
        if self.ended:
            return False
        if self.fault and self.sent >= self.fault.after:
            await self._apply_fault()
            return False
        if not self.sent:
            self.request[RECORD_KEY].first_byte_at = time.monotonic()
        await self.response.write(payload)
        self.sent += 1
        return True

    async def _apply_fault(self) -> None:
        fault, self.fault = self.fault, None
        if fault is None or self.response is None:
            return
        self.ended = True
        if fault.kind == "sse_error":
            await self.response.write(f"data: {json.dumps({'error': fault.error})}\n\n".encode())
            await self.response.write_eof()
            return
        logger.info("cutting %s after %d chunks", self.request.path, self.sent)
        transport = self.request.transport
        if transport is not None:
            transport.abort()  # no zero-length chunk: the client sees an incomplete body
        raise StreamCutError
