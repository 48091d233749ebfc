"""A protocol-faithful fake of the OpenAI API on 127.0.0.1, for tests and benchmarks.

One aiohttp app under /v1 serves REST (transcriptions, chat, speech, realtime client secrets
and calls) and the Realtime WebSocket, so the real SDK only needs
`AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url)`. It runs in its own thread and
event loop, so sync tests, async tests on any loop and subprocesses can all use it:

    with FakeOpenAI() as fake:
        fake.config.reply = "Hi."
        fake.faults.fail("chat", 429, times=2, headers={"retry-after": "0.3"})
        ...
        assert [r.status for r in fake.records.requests_to("chat/completions")] == [429, 429, 200]

Run it alone with `python -m devtools.fake_openai --port 8765`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from .config import FakeConfig
from .errors import invalid_key_message, json_error, rate_limit_headers, request_id
from .faults import FaultScript
from .ids import new_id
from .keys import AUTH_KEY, KeyStore
from .records import RECORD_KEY, RecordedRequest, Recorder, read_request
from .rest_audio import Speech, Transcriptions
from .rest_chat import ChatCompletions
from .rest_realtime import BETA_MESSAGE, RealtimeRest
from .rt_connection import RealtimeConnection
from .rt_errors import EventError
from .rt_session import default_session

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # the service allows 25 MB audio files; leave headroom
MAX_WS_MESSAGE_BYTES = 20 * 1024 * 1024  # 15 MiB of audio per append event, plus base64
EPHEMERAL_KEY_ENDPOINTS = {"realtime", "calls", "call_action"}

Route = Callable[[web.Request, RecordedRequest], Awaitable[web.StreamResponse]]


class FakeOpenAI:
    """The fake server. Configure through `config` and `faults`; assert on `records`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "sk-test",
        config: FakeConfig | None = None,
    ) -> None:
        self.faults = FaultScript()  # queued by tests, taken by the handlers
        self.records = Recorder()  # appended by the handlers, read by tests
        self.host, self.port = host, port
        self.config = config or FakeConfig()
        self.keys = KeyStore(api_key)
        self._realtime_rest = RealtimeRest(self)
        self._connections: list[RealtimeConnection] = []  # every socket, by index
        self._endpoints: dict[AbstractRoute, str] = {}  # route -> endpoint name used by faults
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def api_key(self) -> str:
        return self.keys.api_key

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def calls(self) -> dict[str, dict[str, Any]]:
        """WebRTC calls created so far: call_id -> session."""
        return dict(self._realtime_rest.calls)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeOpenAI:
        """Start serving in a background thread; returns once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name="fake-openai", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("fake OpenAI server did not start in time")
        if failure:
            self._thread = None
            raise RuntimeError("fake OpenAI server failed to start") from failure[0]
        logger.info("fake OpenAI listening on %s", self.base_url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close open sockets, stop the server, join its thread. A later start() reuses the port."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # reported to start() in the caller's thread
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _listen(self) -> None:
        self._runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        # 1001 "going away", like a service restart; bounded in case a client never answers.
        closing = [c.close(1001, "server shutting down") for c in self._connections if not c.closed]
        if closing:
            try:
                await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 1.0)
            except TimeoutError:
                logger.warning("some realtime clients did not answer the close frame")
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test helpers ------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget recordings and pending faults (configuration stays)."""
        self.records.clear()
        self.faults.clear()

    def conversation(self, connection: int = -1) -> list[dict[str, Any]]:
        """A copy of the conversation items of a Realtime socket (default: the latest)."""
        if self._loop is None:
            raise RuntimeError("not started")

        async def snapshot() -> list[dict[str, Any]]:
            return self._connections[connection].snapshot()

        return asyncio.run_coroutine_threadsafe(snapshot(), self._loop).result(5)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait (without blocking the caller's loop) until `predicate()` holds after a record."""
        if not await asyncio.to_thread(self.records.wait_until, predicate, within):
            raise TimeoutError(f"condition not met within {within}s")

    # --- the app -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES, middlewares=[self._middleware])
        chat, transcriptions, speech = ChatCompletions(self), Transcriptions(self), Speech(self)
        rt = self._realtime_rest
        routes: list[tuple[str, str, str, Route]] = [
            ("POST", "/v1/audio/transcriptions", "transcriptions", transcriptions.handle),
            ("POST", "/v1/chat/completions", "chat", chat.handle),
            ("POST", "/v1/audio/speech", "speech", speech.handle),
            ("POST", "/v1/realtime/client_secrets", "client_secrets", rt.client_secrets),
            ("POST", "/v1/realtime/calls", "calls", rt.create_call),
            ("POST", "/v1/realtime/calls/{call_id}/{action}", "call_action", rt.call_action),
            ("POST", "/v1/realtime/sessions", "sessions", rt.beta),
            ("POST", "/v1/realtime/transcription_sessions", "sessions", rt.beta),
            ("POST", "/v1/realtime", "sessions", rt.beta),  # beta WebRTC SDP exchange
            ("GET", "/v1/realtime", "realtime", self._realtime),
        ]
        for method, path, name, route in routes:
            self._endpoints[app.router.add_route(method, path, _adapt(route))] = name
        app.on_response_prepare.append(_add_headers)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Record every request, then check the key and scripted faults before the handler."""
        record = await read_request(request)
        self.records.record_request(record)
        request[RECORD_KEY] = record
        try:
            response = await self._guard(request) or await handler(request)
        except web.HTTPException as exc:
            message = f"Invalid URL ({request.method} {request.path})"
            response = json_error(
                exc.status, message if exc.status in (404, 405) else exc.text or message
            )
        except Exception:  # the boundary: turn a bug in the fake into a visible 500
            logger.exception("fake OpenAI handler failed for %s", request.path)
            response = json_error(500, "The fake server failed; see its log.", "server_error")
        record.status = record.status or response.status
        return response

    async def _guard(self, request: web.Request) -> web.StreamResponse | None:
        name = self._endpoints.get(request.match_info.route)
        if name is None:
            return None  # unknown URL: the router's 404 follows
        auth = self.keys.check(
            request.headers.get("Authorization"), allow_ephemeral=name in EPHEMERAL_KEY_ENDPOINTS
        )
        if not auth.ok:
            return json_error(401, auth.message, code="invalid_api_key")
        request[AUTH_KEY] = auth
        fault = self.faults.take_http_fault(name)
        if fault is None:
            return None
        logger.info("scripted %d for %s", fault.status, request.path)
        message = fault.message if fault.message is not None else invalid_key_message(auth.key)
        return json_error(fault.status, message, fault.type, fault.code, headers=fault.headers)

    async def _realtime(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        """GET /v1/realtime: the WebSocket (reference 1, 4)."""
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=MAX_WS_MESSAGE_BYTES, compress=False)
        if not ws.can_prepare(request).ok:
            return json_error(400, "Expected a WebSocket upgrade.")
        try:
            session, sideband = self._initial_session(request)
        except EventError as error:
            return json_error(404, error.message, code=error.code, param=error.param)
        await ws.prepare(request)
        record.status = 101
        index = len(self._connections)
        conn = RealtimeConnection(self, request, ws, index, session, sideband)
        self._connections.append(conn)
        if request.headers.get("OpenAI-Beta", "").startswith("realtime"):
            beta = EventError(BETA_MESSAGE, "beta_api_shape_disabled")
            await conn.emit({"type": "error", "error": beta.as_error()})
            await conn.close(4000, "invalid_request_error.beta_api_shape_disabled")
            return ws
        await conn.run()
        return ws

    def _initial_session(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        call_id = request.query.get("call_id")
        if call_id:
            session = self._realtime_rest.calls.get(call_id)
            if session is None:
                raise EventError(f"Call not found: {call_id}", "not_found", "call_id")
            return copy.deepcopy(session), True
        secret = request[AUTH_KEY].secret
        if secret is not None:  # the config is bound to the key; each socket is a new session
            return {**copy.deepcopy(secret.session), "id": new_id("sess")}, False
        if request.query.get("intent") == "transcription":
            return default_session("transcription"), False
        return default_session("realtime", request.query.get("model") or "gpt-realtime"), False


def _adapt(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await route(request, request[RECORD_KEY])

    return handler


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("x-request-id", request_id())
    response.headers.setdefault("openai-version", "2020-10-01")
    response.headers.setdefault("openai-processing-ms", "12")
    if response.status != 101:
        for name, value in rate_limit_headers().items():
            response.headers.setdefault(name, value)
