"""The ``openai-realtime`` engine: one GA Realtime WebSocket carries the whole conversation.

Server events are translated in ``realtime_events``; this module owns the connection: setup,
client events, barge-in, and reconnecting with the conversation replayed. Audio the user spoke
that the service had not yet committed when its socket dropped, and audio spoken while the
engine reconnects, is sent again to the new socket: an utterance survives a reconnect.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.exceptions import ConnectionClosed

from voice.engines.base import (
    BYTES_PER_MS,
    EngineEvent,
    EngineFailure,
    SessionConfig,
    TranscriptFinal,
)
from voice.engines.realtime import config as wire
from voice.engines.realtime.events import RealtimeEvents
from voice.engines.realtime.state import (
    RECOVERABLE_CLOSE_CODES,
    ConversationLog,
    RetryPolicy,
    connect_failure,
    truncation_point,
)

logger = logging.getLogger(__name__)

DEFAULT_APPEND_MS = 40  # bench/realtime_append.py measures the trade-off
MIN_COMMIT_MS = 100  # the service rejects a commit of less audio
REPLAY_MS = 10_000  # at most this much user audio is sent again after a reconnect
IDLE_REPLAY_MS = 1_000  # with server VAD and nobody speaking, only a lead-in is worth resending
REPLAY_APPEND_MS = 1_000  # resent audio goes out in larger appends
CLOSE_TIMEOUT_S = 2.0


class UpstreamLostError(Exception):
    """The Realtime connection is gone and cannot be restored."""


class OpenAIRealtimeEngine(RealtimeEvents):
    """Speech in, speech out over one Realtime session (reference/openai-wire.md 1-4)."""

    name = "openai-realtime"

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        append_ms: int = DEFAULT_APPEND_MS,
        transcribe_model: str = wire.DEFAULT_TRANSCRIBE_MODEL,
        retry: RetryPolicy | None = None,
        owns_client: bool = True,
    ) -> None:
        super().__init__()
        self.client = client
        self.owns_client = owns_client  # a client shared by the process is not ours to close
        self.model = model
        self.append_bytes = max(1, append_ms) * BYTES_PER_MS
        self.transcribe_model = transcribe_model
        self.retry = retry or RetryPolicy()
        self.config = SessionConfig(session_id="")
        self.detects_turns = False
        self.log = ConversationLog()
        self.dropped_audio_ms = 0  # audio that could not be sent, even after a reconnect
        self._conn: AsyncRealtimeConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending_audio = bytearray()  # less than one append so far
        self._recent_audio = bytearray()  # at least the last REPLAY_MS of user audio
        self._replay_bytes = 0  # how much of it the next socket must be sent
        self._respond_after_reconnect = False
        self._commit_after_reconnect = False
        self._attempts = 0  # connection attempts since the last stable connection
        self._connected_at = 0.0
        self._closed = False
        self._failed = False

    # ---- Engine interface ---------------------------------------------------------------------

    async def start(self, config: SessionConfig) -> None:
        """Connect, configure the session and replay ``config.history``."""
        self._apply(config)
        self.log = ConversationLog(config.history)
        try:
            await self._connect(delay_first=False)
        except UpstreamLostError as exc:
            self._fail(str(exc))
            return
        if self._closed:  # closed while connecting
            await self._close_socket()
            return
        self._reader = asyncio.create_task(
            self._read_forever(), name=f"realtime-reader-{config.session_id}"
        )

    async def update(self, config: SessionConfig) -> None:
        """Send the new configuration; the voice stays once assistant audio went out."""
        if config.voice != self.config.voice and self.voice_locked:
            logger.info("voice change in %s waits: audio already went out", config.session_id)
        self._apply(config)
        await self.send(self._session_update())

    async def send_audio(self, pcm: bytes) -> None:
        """Buffer user audio and send it in appends of ``append_ms``."""
        self._recent_audio += pcm
        if len(self._recent_audio) > 2 * REPLAY_MS * BYTES_PER_MS:  # trimmed now and then
            del self._recent_audio[: -REPLAY_MS * BYTES_PER_MS]
        if self._conn is None:
            if self._failed or self._closed:
                self.dropped_audio_ms += len(pcm) // BYTES_PER_MS
            else:
                self._replay_bytes += len(pcm)  # sent once the socket is back
            return
        self._pending_audio += pcm
        self.uncommitted_bytes += len(pcm)
        self.unconfirmed_bytes += len(pcm)
        while len(self._pending_audio) >= self.append_bytes:
            chunk = bytes(self._pending_audio[: self.append_bytes])
            del self._pending_audio[: self.append_bytes]
            await self._append(chunk)

    async def clear_input(self) -> None:
        self._pending_audio.clear()
        self.uncommitted_bytes = self.unconfirmed_bytes = self._replay_bytes = 0
        self.commit_unconfirmed = self._commit_after_reconnect = False
        await self.send({"type": "input_audio_buffer.clear"})

    async def commit(self) -> None:
        """End of the utterance: commit it and ask for the answer."""
        if self._pending_audio:
            chunk = bytes(self._pending_audio)
            self._pending_audio.clear()
            await self._append(chunk)
        if self.detects_turns and not self.speaking:
            return  # the server VAD already ended this turn, or heard nothing
        if self._conn is None and self._replay_bytes and not self._failed:
            self._commit_after_reconnect = True  # answered once the audio is sent again
            return
        if self._conn is None or self.uncommitted_bytes < MIN_COMMIT_MS * BYTES_PER_MS:
            self.emit(TranscriptFinal(""))  # nothing to answer; the session stops waiting
            return
        self.uncommitted_bytes = 0
        self.commit_unconfirmed = True  # until `committed`: a drop before it commits again
        await self.send({"type": "input_audio_buffer.commit"})
        await self.send({"type": "response.create"})

    async def send_text(self, text: str) -> None:
        self.log.add("user", text)
        if self._conn is None:
            self._respond_after_reconnect = not self._failed  # the replayed log has the text
            return
        await self.send(wire.message_item("user", text))
        await self.send({"type": "response.create"})

    async def cancel(self, played_ms: int | None = None) -> None:
        """Stop the response (unless it already ended) and cut its audio where playback was."""
        self.release()
        turn, audio, generating = self.turn, self.playback, False
        if turn is not None:
            generating = turn.upstream_id is not None or turn.continuing
            if not generating:
                self.finish(turn, "cancelled")  # it was only waiting for tool results
            elif not turn.cancel_sent:
                turn.cancel_sent = True
                if turn.upstream_id is not None:
                    await self.send({"type": "response.cancel", "response_id": turn.upstream_id})
        if played_ms is None or not audio:
            return
        self.playback = []  # cut once
        point = truncation_point(audio, played_ms, generating)
        if point is not None:
            await self.send(
                {
                    "type": "conversation.item.truncate",
                    "item_id": point[0],
                    "content_index": 0,
                    "audio_end_ms": point[1],
                }
            )

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        """Hand the output back; once every call of the round has one, ask for the answer."""
        await self.send(wire.tool_output_item(call_id, output))
        turn = self.turn
        if turn is None or call_id not in turn.pending_calls:
            return
        turn.pending_calls.discard(call_id)
        if not turn.pending_calls and turn.upstream_id is None and not turn.continuing:
            await self.continue_turn(turn)

    async def events(self) -> AsyncIterator[EngineEvent]:
        while (event := await self._queue.get()) is not None:
            yield event
        self._queue.put_nowait(None)  # so another reader ends too

    async def close(self) -> None:
        """Stop reading, close the socket and end ``events()``. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await self._close_socket()
        self.release()
        self._queue.put_nowait(None)
        if self.owns_client:
            await self.client.close()

    async def send(self, event: dict[str, Any]) -> bool:
        """Send one client event; False without a live socket (the reader handles drops).

        Our events are already in wire shape: ``send_raw`` skips the SDK's typed transform,
        which costs ~0.2 ms of CPU per event (audio appends go out 25 times a second).
        """
        conn = self._conn
        if conn is None:
            return False
        try:
            await conn.send_raw(json.dumps(event))
        except (ConnectionClosed, OSError) as exc:
            logger.debug("realtime send of %s failed: %r", event.get("type"), exc)
            return False
        return True

    # ---- connection ---------------------------------------------------------------------------

    def _apply(self, config: SessionConfig) -> None:
        self.config = config
        self.detects_turns = config.turn_detection is not None

    def _session_update(self) -> dict[str, Any]:
        return wire.session_update(
            self.config, transcribe_model=self.transcribe_model, include_voice=not self.voice_locked
        )

    async def _append(self, chunk: bytes) -> None:
        audio = base64.b64encode(chunk).decode()
        await self.send({"type": "input_audio_buffer.append", "audio": audio})

    async def _connect(self, *, delay_first: bool) -> None:
        """Open a socket, configure it and replay the conversation; retry transient faults."""
        message = "The AI service could not be reached."
        while self._attempts < self.retry.attempts:
            self._attempts += 1
            if delay_first or self._attempts > 1:
                await asyncio.sleep(self.retry.delay(self._attempts))
            conn: AsyncRealtimeConnection | None = None
            try:
                conn = await self.client.realtime.connect(model=self.model).enter()
                due, sent = await self._setup(conn)
            except BaseException as exc:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)
                if not isinstance(exc, Exception):
                    raise  # cancelled
                retryable, message = connect_failure(exc)
                logger.warning(
                    "realtime connect attempt %d of %s failed (%s): %s",
                    self._attempts,
                    self.config.session_id,
                    type(exc).__name__,
                    message,
                )
                if not retryable:
                    raise UpstreamLostError(message) from exc
                continue
            self._conn, self._connected_at = conn, asyncio.get_running_loop().time()
            self._resume_input(due, sent)
            return
        raise UpstreamLostError(message)

    async def _setup(self, conn: AsyncRealtimeConnection) -> tuple[int, int]:
        """Configure a fresh upstream session: it knows nothing of earlier sockets.

        Returns the bytes of user audio it was due to be sent again, and the bytes sent.
        """
        await conn.send_raw(json.dumps(self._session_update()))
        for item in wire.history_items(self.log.entries()):
            await conn.send_raw(json.dumps(item))
        due = self._replay_bytes
        kept = min(due, len(self._recent_audio), REPLAY_MS * BYTES_PER_MS)
        replay = self._recent_audio[len(self._recent_audio) - kept :]
        step = REPLAY_APPEND_MS * BYTES_PER_MS
        for start in range(0, len(replay), step):
            audio = base64.b64encode(replay[start : start + step]).decode()
            await conn.send_raw(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
        respond = self._respond_after_reconnect
        if self._commit_after_reconnect and len(replay) >= MIN_COMMIT_MS * BYTES_PER_MS:
            await conn.send_raw(json.dumps({"type": "input_audio_buffer.commit"}))
            respond = True
        if respond:
            await conn.send_raw(json.dumps({"type": "response.create"}))
        return due, len(replay)

    def _resume_input(self, due: int, sent: int) -> None:
        """The new socket is live: account for the audio sent again, and queue what came since."""
        self.dropped_audio_ms += (due - sent) // BYTES_PER_MS  # older than REPLAY_MS
        late = min(self._replay_bytes - due, len(self._recent_audio))
        committed = self._commit_after_reconnect and sent >= MIN_COMMIT_MS * BYTES_PER_MS
        if self._commit_after_reconnect and not committed:
            self.emit(TranscriptFinal(""))  # too little to answer; the session stops waiting
        self._replay_bytes = 0
        self._respond_after_reconnect = self._commit_after_reconnect = False
        self.uncommitted_bytes = 0 if committed else sent
        self.unconfirmed_bytes, self.commit_unconfirmed = sent, committed
        if late > 0:  # spoken while the socket was being set up: sent with the next append
            self._pending_audio += self._recent_audio[len(self._recent_audio) - late :]
            self.uncommitted_bytes += late
            self.unconfirmed_bytes += late

    async def _read_forever(self) -> None:
        """Read server events; after a drop, reconnect with the context or fail for good."""
        try:
            while self._conn is not None:
                code = await self._read(self._conn)
                expired, last_error = self.expired, self.last_error
                recoverable = expired or code in RECOVERABLE_CLOSE_CODES
                self._lose_connection(report=recoverable and not expired)
                if not recoverable:
                    self._fail(last_error or f"The AI service closed the session ({code}).")
                    return
                logger.info("realtime socket of %s closed (%d)", self.config.session_id, code)
                if expired:
                    self._attempts = 0  # the 60-minute cap is no fault of the connection
                await self._connect(delay_first=not expired)
        except UpstreamLostError as exc:
            self._fail(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("realtime reader failed in %s", self.config.session_id)
            await self._close_socket()
            self._fail("The AI service connection failed.")

    async def _read(self, conn: AsyncRealtimeConnection) -> int:
        """Dispatch server events until the socket closes; return its close code."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                raw = await conn.recv_bytes()
                try:
                    event = json.loads(raw)
                except ValueError:
                    logger.warning("unparseable realtime event in %s", self.config.session_id)
                    continue
                if not isinstance(event, dict):
                    continue
                # A socket proves itself by an answer or by time: then the budget starts afresh.
                stable = loop.time() - self._connected_at > self.retry.stable_after_s
                if event.get("type") == "response.done" or stable:
                    self._attempts = 0
                await self.dispatch(event)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else 1006
        except OSError:
            return 1006

    def _lose_connection(self, *, report: bool) -> None:
        """Forget the socket's state and end what was in flight (``report``: say so)."""
        self._conn = None
        self._pending_audio.clear()
        # The service lost its input buffer: what it had not confirmed goes to the next socket.
        unconfirmed = self.unconfirmed_bytes
        if self.detects_turns and not self.speaking and not self.commit_unconfirmed:
            unconfirmed = min(unconfirmed, IDLE_REPLAY_MS * BYTES_PER_MS)
        self._replay_bytes = unconfirmed
        self._commit_after_reconnect = self.commit_unconfirmed
        self.unconfirmed_bytes, self.commit_unconfirmed = 0, False
        if self.abandon(expired=self.expired) and report:
            self.emit(EngineFailure("The connection to the AI service dropped. Please try again."))

    async def _close_socket(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)

    def _fail(self, message: str) -> None:
        if self._failed or self._closed:
            return
        self._failed = True
        logger.warning("realtime engine of %s gave up: %s", self.config.session_id, message)
        self.emit(EngineFailure(message, code="upstream", fatal=True))
