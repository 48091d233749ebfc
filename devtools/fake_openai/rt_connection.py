"""One Realtime WebSocket: session state, event dispatch, and the faults that fire on send."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import rt_items
from .faults import WsFault
from .ids import new_id
from .rt_conversation import Conversation
from .rt_errors import ConnectionGoneError, EventError
from .rt_input import InputAudio
from .rt_response import ResponseRun
from .rt_session import merge_session, validate_update

if TYPE_CHECKING:
    from .openai_server import FakeOpenAI

logger = logging.getLogger(__name__)

# GA name -> beta name, for the "beta names mid-stream" fault.
BETA_NAMES = {
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "conversation.item.added": "conversation.item.created",
}

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class RealtimeConnection:
    """Server side of one socket. Events go out through `emit`, where WS faults fire."""

    def __init__(
        self,
        fake: FakeOpenAI,
        request: web.Request,
        ws: web.WebSocketResponse,
        index: int,
        session: dict[str, Any],
        sideband: bool = False,
    ) -> None:
        self.fake, self.request, self.ws, self.index = fake, request, ws, index
        self.session = session
        self.sideband = sideband  # a ?call_id= control socket of a WebRTC call
        self.conversation = Conversation()
        self.input = InputAudio(self)
        self.response: ResponseRun | None = None
        self.voice_locked = False  # voice is fixed once audio went out
        self.closed = False
        self._send_lock = asyncio.Lock()
        self._sent_counts: Counter[str] = Counter()
        self._beta_left = 0  # events still to send under beta names; -1 = all
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handlers: dict[str, Handler] = {
            "session.update": self._session_update,
            "input_audio_buffer.append": self.input.append,
            "input_audio_buffer.commit": self.input.commit,
            "input_audio_buffer.clear": self.input.clear,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
            "output_audio_buffer.clear": self._output_clear,
            "conversation.item.create": lambda e: rt_items.create(self, e),
            "conversation.item.retrieve": lambda e: rt_items.retrieve(self, e),
            "conversation.item.truncate": lambda e: rt_items.truncate(self, e),
            "conversation.item.delete": lambda e: rt_items.delete(self, e),
        }
        self.input.configure()

    # --- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Send session.created, then serve client events until the socket closes."""
        config = self.fake.config
        self.session["expires_at"] = int(time.time() + config.session_max_seconds)
        self.spawn(self._expire(config.session_max_seconds), "expiry")
        try:
            await asyncio.sleep(config.session_created_delay_ms / 1000)
            await self.emit({"type": "session.created", "session": copy.deepcopy(self.session)})
            async for message in self.ws:
                if message.type == WSMsgType.TEXT:
                    await self._dispatch(message.data)
                elif message.type == WSMsgType.BINARY:
                    error = EventError("Binary frames are not supported.", "invalid_event")
                    await self._reject(error, None)
        except ConnectionGoneError:
            pass
        finally:
            self.closed = True
            for task in list(self._tasks):
                task.cancel()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a helper task owned by this socket; it ends when the socket does."""
        task = asyncio.create_task(coro, name=f"fake-openai-rt{self.index}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if (
            not task.cancelled()
            and task.exception()
            and not isinstance(task.exception(), ConnectionGoneError)
        ):
            logger.error("realtime task %s failed", task.get_name(), exc_info=task.exception())

    async def _expire(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        # The 60-minute cap is documented but its wire shape is not ([?] in the reference).
        # Our choice: an `error` with code session_expired, then close code
        # config.session_expired_close_code, default 1000 (a normal end, so the SDK does not
        # reconnect; 1011 is the other plausible reading and makes the SDK retry).
        message = f"Your session hit the maximum duration of {seconds / 60:g} minutes."
        error = EventError(message, "session_expired")
        await self.emit({"type": "error", "error": error.as_error()})
        await self.close(self.fake.config.session_expired_close_code, "session_expired")

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        await self.ws.close(code=code, message=reason.encode())

    # --- sending -----------------------------------------------------------------------------

    async def emit(self, event: dict[str, Any]) -> None:
        """Send one server event, then fire any WS fault scripted to follow it."""
        ga_type = event["type"]
        wire = {"type": self._wire_name(ga_type), "event_id": new_id("event")}
        wire.update((k, v) for k, v in event.items() if k != "type")
        async with self._send_lock:
            await self._send(wire)
            self._sent_counts[ga_type] += 1
            fault = self.fake.faults.take_ws_fault(ga_type, self._sent_counts[ga_type])
            if fault:
                await self._apply_fault(fault)

    async def _send(self, event: dict[str, Any]) -> None:
        if self.closed or self.ws.closed:
            self.closed = True
            raise ConnectionGoneError
        try:
            await self.ws.send_str(json.dumps(event))
        except (ConnectionError, RuntimeError) as exc:
            self.closed = True
            raise ConnectionGoneError from exc
        self.fake.records.record_ws_sent(self.index, event)

    def _wire_name(self, ga_type: str) -> str:
        if self._beta_left and ga_type in BETA_NAMES:
            if self._beta_left > 0:
                self._beta_left -= 1
            return BETA_NAMES[ga_type]
        return ga_type

    async def _apply_fault(self, fault: WsFault) -> None:
        logger.info("realtime socket %d: fault %s after %s", self.index, fault.action, fault.after)
        if fault.action == "drop":
            self.closed = True
            if self.request.transport is not None:
                self.request.transport.abort()  # no close frame: the client sees 1006
            raise ConnectionGoneError
        if fault.action == "close":
            await self.close(fault.code, fault.reason)
            raise ConnectionGoneError
        if fault.action == "error":
            await self._send({"type": "error", "event_id": new_id("event"), "error": fault.error})
        elif fault.action == "stall":
            await asyncio.sleep(fault.seconds)
        elif fault.action == "beta_names":
            self._beta_left = -1 if fault.count is None else fault.count
        elif fault.action == "inject":
            await self._send({"event_id": new_id("event"), **fault.event})

    async def _reject(self, error: EventError, event_id: str | None) -> None:
        await self.emit({"type": "error", "error": error.as_error(event_id)})

    # --- client events -----------------------------------------------------------------------

    async def _dispatch(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            self.fake.records.record_ws_event(self.index, {"_unparsed": raw})
            await self._reject(EventError("The event is not valid JSON.", "invalid_json"), None)
            return
        self.fake.records.record_ws_event(self.index, event)
        event_id = event.get("event_id") if isinstance(event, dict) else None
        try:
            if not isinstance(event, dict) or "type" not in event:
                raise EventError("The 'type' field is missing.", "invalid_event", "type")
            handler = self._handlers.get(event["type"])
            if handler is None:
                raise EventError(
                    f"Invalid value: '{event['type']}'. Supported values are: "
                    + ", ".join(f"'{name}'" for name in self._handlers)
                    + ".",
                    param="type",
                )
            await handler(event)
        except EventError as error:
            await self._reject(error, event_id)

    async def _session_update(self, event: dict[str, Any]) -> None:
        update = validate_update(event.get("session"), self.session["type"])
        voice = ((update.get("audio") or {}).get("output") or {}).get("voice")
        if voice and self.voice_locked and voice != self.session["audio"]["output"]["voice"]:
            raise EventError(
                "Cannot update a conversation's voice if assistant audio is present.",
                "cannot_update_voice",
                "session.audio.output.voice",
            )
        if update.get("model") and update["model"] != self.session.get("model"):
            raise EventError("Cannot change the model of a session.", param="session.model")
        self.session = merge_session(self.session, update)
        self.input.configure()
        await self.emit({"type": "session.updated", "session": copy.deepcopy(self.session)})

    async def _response_create(self, event: dict[str, Any]) -> None:
        if self.session["type"] != "realtime":
            raise EventError("Transcription sessions do not create responses.", param="type")
        if self.response is not None:
            raise EventError(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                "conversation_already_has_active_response",
            )
        options = event.get("response") or {}
        if not isinstance(options, dict):
            raise EventError(
                "Invalid type for 'response': expected an object.", "invalid_type", "response"
            )
        self.start_response(options)

    def start_response(self, options: dict[str, Any]) -> None:
        """Begin generating a response in a task owned by this socket."""
        self.response = ResponseRun(self, options)
        self.spawn(self.response.run(), self.response.id)

    async def _response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self.response is None or (wanted and wanted != self.response.id):
            raise EventError(
                "Cancellation failed: no active response found", "response_cancel_not_active"
            )
        await self.response.cancel("client_cancelled")

    async def _output_clear(self, event: dict[str, Any]) -> None:
        if not self.sideband:
            raise EventError(
                "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
                param="type",
            )
        await self.emit({"type": "output_audio_buffer.cleared", "response_id": None})

    def snapshot(self) -> list[dict[str, Any]]:
        """A copy of the conversation items, for assertions from the test thread."""
        return copy.deepcopy(self.conversation.items)
