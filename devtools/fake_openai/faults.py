"""Scripted failures. Tests queue them from their own thread; the server consumes them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .errors import default_error, error_object, rate_limit_headers

# Endpoint names accepted by fail(), cut_stream(), sse_error() and truncate_body().
HTTP_ENDPOINTS = frozenset(
    {"transcriptions", "chat", "speech", "client_secrets", "calls", "sessions", "realtime"}
)

StreamFaultKind = Literal["cut", "sse_error", "truncate"]
WsAction = Literal["drop", "close", "error", "stall", "beta_names", "inject"]


@dataclass
class HttpFault:
    status: int
    headers: dict[str, str]
    type: str
    code: str | None
    message: str | None  # None: the 401 quoting the request's key, worded when it is served
    remaining: int


@dataclass
class StreamFault:
    kind: StreamFaultKind
    remaining: int
    after: int = 0  # events (SSE) or chunks (audio body) delivered before the fault
    fraction: float = 1.0  # truncate: share of the audio body that is delivered
    error: dict[str, Any] = field(default_factory=dict)


@dataclass
class WsFault:
    action: WsAction
    after: str  # fires right after the server sends its `nth` event of this type on a socket
    nth: int
    remaining: int
    code: int = 1011
    reason: str = ""
    seconds: float = 0.0
    error: dict[str, Any] = field(default_factory=dict)
    count: int | None = None  # beta_names: how many events to rename (None = the rest)
    event: dict[str, Any] = field(default_factory=dict)  # inject: the server event to send


@dataclass
class ErrorFault:
    error: dict[str, Any]
    remaining: int


F = TypeVar("F", HttpFault, StreamFault, WsFault, ErrorFault)


class FaultScript:
    """Queues of one-shot (or `times`-shot) faults, consumed first-in first-out."""

    def __init__(self) -> None:
        self._fault_lock = threading.Lock()
        self._http: dict[str, list[HttpFault]] = {}
        self._stream: dict[str, list[StreamFault]] = {}
        self._ws: list[WsFault] = []
        self._response_failures: list[ErrorFault] = []
        self._transcription_failures: list[ErrorFault] = []

    # --- scripting API (test thread) ---------------------------------------------------------

    def fail(
        self,
        endpoint: str,
        status: int = 500,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body_code: str | None = None,
        body_type: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` requests to `endpoint` with an HTTP error.

        `body_code="insufficient_quota"` gives the quota flavour of 429. 429s carry the
        x-ratelimit-* headers; pass `retry-after`, `retry-after-ms` or `x-should-retry` in
        `headers` to steer the SDK's retries. Endpoint "realtime" refuses the WS upgrade.
        """
        _check_endpoint(endpoint)
        type_, code, default_message = default_error(status, body_code)
        all_headers = rate_limit_headers(0, 0) if status == 429 else {}
        all_headers.update(headers or {})
        if message is None and code != "invalid_api_key":
            message = default_message
        fault = HttpFault(status, all_headers, body_type or type_, code, message, times)
        self._queue(self._http.setdefault(endpoint, []), fault)

    def cut_stream(self, endpoint: str, *, after: int = 2, times: int = 1) -> None:
        """Drop the connection after `after` SSE events / body chunks, without a terminator."""
        _check_endpoint(endpoint)
        self._queue(self._stream.setdefault(endpoint, []), StreamFault("cut", times, after=after))

    def sse_error(
        self,
        endpoint: str,
        *,
        after: int = 1,
        times: int = 1,
        message: str = "The server had an error while processing your request.",
        code: str | None = "server_error",
        type_: str = "server_error",
    ) -> None:
        """Send `data: {"error": ...}` after `after` events, then end the stream."""
        _check_endpoint(endpoint)
        fault = StreamFault(
            "sse_error", times, after=after, error=error_object(message, type_, code)
        )
        self._queue(self._stream.setdefault(endpoint, []), fault)

    def truncate_body(
        self, endpoint: str = "speech", *, fraction: float = 0.5, times: int = 1
    ) -> None:
        """Deliver only the first `fraction` of an audio body, but end the HTTP message cleanly."""
        _check_endpoint(endpoint)
        fault = StreamFault("truncate", times, fraction=fraction)
        self._queue(self._stream.setdefault(endpoint, []), fault)

    def ws_drop(self, *, after: str = "session.created", nth: int = 1, times: int = 1) -> None:
        """Abort the TCP connection (client sees 1006) right after that server event."""
        self._queue(self._ws, WsFault("drop", after, nth, times))

    def ws_close(
        self,
        code: int,
        reason: str = "",
        *,
        after: str = "session.created",
        nth: int = 1,
        times: int = 1,
    ) -> None:
        """Close the socket with `code` (1011, 1012, 1013, 4000, 1008, ...) after that event."""
        self._queue(self._ws, WsFault("close", after, nth, times, code=code, reason=reason))

    def ws_error(
        self,
        *,
        after: str,
        nth: int = 1,
        times: int = 1,
        message: str = "The server had an error while processing your request.",
        code: str | None = "server_error",
        type_: str = "server_error",
    ) -> None:
        """Inject an `error` event after that server event; the socket stays open."""
        fault = WsFault("error", after, nth, times, error=error_object(message, type_, code))
        self._queue(self._ws, fault)

    def ws_stall(self, seconds: float, *, after: str, nth: int = 1, times: int = 1) -> None:
        """Send nothing for `seconds` after that server event."""
        self._queue(self._ws, WsFault("stall", after, nth, times, seconds=seconds))

    def ws_beta_names(
        self,
        *,
        after: str = "response.created",
        nth: int = 1,
        count: int | None = None,
        times: int = 1,
    ) -> None:
        """From that event on, send beta event names (response.audio.delta, ...) instead of GA."""
        self._queue(self._ws, WsFault("beta_names", after, nth, times, count=count))

    def ws_inject(self, event: dict[str, Any], *, after: str, nth: int = 1, times: int = 1) -> None:
        """Send an extra server event after that one (e.g. `conversation.created`, a type
        newer than the client, or a delta with an `obfuscation` field)."""
        self._queue(self._ws, WsFault("inject", after, nth, times, event=dict(event)))

    def fail_response(
        self,
        *,
        code: str = "server_error",
        message: str = "The server had an error while processing your request.",
        type_: str = "server_error",
        times: int = 1,
    ) -> None:
        """End the next Realtime response with `response.done` status "failed"."""
        self._queue(self._response_failures, ErrorFault(error_object(message, type_, code), times))

    def fail_input_transcription(
        self,
        *,
        code: str = "audio_unintelligible",
        message: str = "Input transcription failed.",
        times: int = 1,
    ) -> None:
        """Emit `...input_audio_transcription.failed` instead of `completed` next time."""
        error = error_object(message, "invalid_request_error", code)
        self._queue(self._transcription_failures, ErrorFault(error, times))

    # --- consumption (server thread) ---------------------------------------------------------

    def take_http_fault(self, endpoint: str) -> HttpFault | None:
        return self._take(self._http.get(endpoint, []), lambda f: True)

    def take_stream_fault(self, endpoint: str) -> StreamFault | None:
        return self._take(self._stream.get(endpoint, []), lambda f: True)

    def take_ws_fault(self, event_type: str, count: int) -> WsFault | None:
        return self._take(self._ws, lambda f: f.after == event_type and f.nth == count)

    def take_response_failure(self) -> dict[str, Any] | None:
        failure = self._take(self._response_failures, lambda f: True)
        return failure.error if failure else None

    def take_transcription_failure(self) -> dict[str, Any] | None:
        failure = self._take(self._transcription_failures, lambda f: True)
        return failure.error if failure else None

    def clear(self) -> None:
        """Forget everything queued."""
        with self._fault_lock:
            self._http.clear()
            self._stream.clear()
            self._ws.clear()
            self._response_failures.clear()
            self._transcription_failures.clear()

    def _queue(self, queue: list[Any], fault: Any) -> None:
        with self._fault_lock:
            queue.append(fault)

    def _take(self, queue: list[F], match: Callable[[F], bool]) -> F | None:
        with self._fault_lock:
            for fault in queue:
                if match(fault):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.remove(fault)
                    return fault
        return None


def _check_endpoint(endpoint: str) -> None:
    if endpoint not in HTTP_ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {sorted(HTTP_ENDPOINTS)}")
