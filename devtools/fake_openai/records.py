"""What the fake saw: HTTP requests and Realtime frames, recorded under a lock for assertions."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FilePart:
    """A file part of a multipart upload."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One HTTP request (including WebSocket upgrades and requests that were failed on purpose)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)  # str, FilePart, or list for repeats
    body: bytes = b""
    retry_count: int | None = None  # from x-stainless-retry-count
    received_at: float = field(default_factory=time.monotonic)
    status: int | None = None  # filled in once answered
    first_byte_at: float | None = None  # when the first body chunk of a stream was written
    audio_seconds: float | None = None  # decoded duration of an uploaded audio file

    @property
    def endpoint(self) -> str:
        """The path below /v1, e.g. "chat/completions"."""
        return self.path.removeprefix("/v1/")


async def read_request(request: web.Request) -> RecordedRequest:
    """What the fake records of a request: its line, headers and parsed body."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    retry = headers.get("x-stainless-retry-count", "")
    record = RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=headers,
        retry_count=int(retry) if retry.isdigit() else None,
    )
    if request.method != "POST":
        return record
    if request.content_type == "multipart/form-data":
        record.form = await _read_form(request)
        return record
    record.body = await request.read()
    if record.body and request.content_type in ("application/json", "application/octet-stream", ""):
        try:
            record.json = json.loads(record.body)
        except ValueError:
            record.json = None
    return record


async def _read_form(request: web.Request) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for name, raw in (await request.post()).items():
        value: FilePart | str
        if isinstance(raw, web.FileField):
            value = FilePart(raw.filename, raw.content_type, raw.file.read())
        elif isinstance(raw, (bytes, bytearray)):  # non-text parts, e.g. application/sdp
            value = bytes(raw).decode(errors="replace")
        else:
            value = raw
        if name in form:  # repeated fields such as timestamp_granularities[]
            previous = form[name] if isinstance(form[name], list) else [form[name]]
            form[name] = [*previous, value]
        else:
            form[name] = value
    return form


RECORD_KEY: web.RequestKey[RecordedRequest] = web.RequestKey("record", RecordedRequest)


@dataclass
class WsEvent:
    """A parsed Realtime event, with the index of the socket it travelled on."""

    connection: int
    event: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def type(self) -> str:
        return str(self.event.get("type"))


class Recorder:
    """Thread-safe recordings. The server thread appends; the test thread reads copies."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.recording = True  # benchmarks turn this off so memory stays flat
        self._requests: list[RecordedRequest] = []
        self._ws_events: list[WsEvent] = []
        self._ws_sent: list[WsEvent] = []

    @property
    def requests(self) -> list[RecordedRequest]:
        """HTTP requests in arrival order."""
        with self._changed:
            return list(self._requests)

    @property
    def ws_events(self) -> list[WsEvent]:
        """Client events received on Realtime sockets, in order."""
        with self._changed:
            return list(self._ws_events)

    @property
    def ws_sent(self) -> list[WsEvent]:
        """Server events sent on Realtime sockets, in order."""
        with self._changed:
            return list(self._ws_sent)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Requests whose path below /v1 equals `endpoint` (e.g. "audio/speech")."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def _append(self, target: list[Any], item: Any) -> None:
        if not self.recording:
            return
        with self._changed:
            target.append(item)
            self._changed.notify_all()

    def record_request(self, request: RecordedRequest) -> None:
        self._append(self._requests, request)

    def record_ws_event(self, connection: int, event: dict[str, Any]) -> None:
        self._append(self._ws_events, WsEvent(connection, event))

    def record_ws_sent(self, connection: int, event: dict[str, Any]) -> None:
        self._append(self._ws_sent, WsEvent(connection, event))

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block the calling thread until `predicate()` holds after some recording, or time out."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def clear(self) -> None:
        """Forget everything recorded."""
        with self._changed:
            self._requests.clear()
            self._ws_events.clear()
            self._ws_sent.clear()
