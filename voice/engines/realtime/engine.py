"""The ``openai-realtime`` engine: one GA Realtime WebSocket carries the whole conversation.

The engine drives the conversation: client events, the setup of each socket, and reconnecting
with the conversation replayed. The socket and its retries are the ``RealtimeLink``'s, what
server events mean is the ``RealtimeTranslator``'s, and the user audio kept for a replay is the
``Uplink``'s, so an utterance survives a reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection

from voice.engines.base import EngineEvent, EngineFailure, SessionConfig, TranscriptFinal
from voice.engines.realtime import config as wire
from voice.engines.realtime.link import RealtimeLink, UpstreamLostError
from voice.engines.realtime.state import RECOVERABLE_CLOSE_CODES, Answer, Translation
from voice.engines.realtime.translator import RealtimeTranslator
from voice.engines.realtime.uplink import Commit, Replay, Uplink, append_event
from voice.upstream.backoff import RetryPolicy

logger = logging.getLogger(__name__)

DEFAULT_APPEND_MS = 40  # bench/realtime_append.py measures the trade-off
# How long a finished answer waits for the user's transcript, so the chat stays in order.
TRANSCRIPT_WAIT_S = 2.0
# Jitter as the SDK's own reconnect: each delay is 75-100 % of the exponential step.
RECONNECT = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, jitter=0.25)


class OpenAIRealtimeEngine:
    """Speech in, speech out over one Realtime session (reference/openai-wire.md 1-4)."""

    name = "openai-realtime"

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        append_ms: int = DEFAULT_APPEND_MS,
        transcribe_model: str = wire.DEFAULT_TRANSCRIBE_MODEL,
        retry: RetryPolicy = RECONNECT,
        transcript_wait_s: float = TRANSCRIPT_WAIT_S,
        owns_client: bool = True,
    ) -> None:
        self.client = client
        self.owns_client = owns_client  # a client shared by the process is not ours to close
        self.transcribe_model = transcribe_model
        self.transcript_wait_s = transcript_wait_s
        self.link = RealtimeLink(client, model, retry)
        self.config = SessionConfig(session_id="")
        self.detects_turns = False
        self.translator = RealtimeTranslator()
        self.uplink = Uplink(append_ms)
        self._queue: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        # The answer held for a transcript, and the timer that bounds its wait.
        self._hold: tuple[Answer, asyncio.TimerHandle] | None = None
        self._closed = False
        self._failed = False

    @property
    def dropped_audio_ms(self) -> int:
        """User audio that could not be sent, even after a reconnect."""
        return self.uplink.dropped_ms

    # ---- Engine interface ---------------------------------------------------------------------

    async def start(self, config: SessionConfig) -> None:
        """Connect, configure the session and replay ``config.history``."""
        self.translator = RealtimeTranslator(config.session_id, config.history)
        self._apply(config)
        try:
            await self._connect(delay_first=False)
        except UpstreamLostError as exc:
            self._fail(str(exc))
            return
        if self._closed:  # closed while connecting
            await self.link.close()
            return
        self._reader = asyncio.create_task(
            self._read_forever(), name=f"realtime-reader-{config.session_id}"
        )

    async def update(self, config: SessionConfig) -> None:
        """Send the new configuration; the voice stays once assistant audio went out."""
        if config.voice != self.config.voice and self.translator.responses.voice_locked:
            logger.info("voice change in %s waits: audio already went out", config.session_id)
        self._apply(config)
        await self.send(self._session_update())

    async def send_audio(self, pcm: bytes) -> None:
        """Buffer user audio and send it in appends of ``append_ms``."""
        lost = self._failed or self._closed
        for chunk in self.uplink.add(pcm, connected=self.link.conn is not None, lost=lost):
            await self.send(append_event(chunk))

    async def clear_input(self) -> None:
        self.uplink.clear()
        await self.send({"type": "input_audio_buffer.clear"})

    async def commit(self) -> None:
        """End of the utterance: commit it and ask for the answer."""
        if rest := self.uplink.rest():
            await self.send(append_event(rest))
        if self.detects_turns and not self.translator.speaking:
            return  # the server VAD already ended this turn, or heard nothing
        decision = self.uplink.commit(connected=self.link.conn is not None, failed=self._failed)
        if decision is Commit.EMPTY:
            self._emit(TranscriptFinal(""))  # nothing to answer; the session stops waiting
        elif decision is Commit.SEND:
            await self.send({"type": "input_audio_buffer.commit"})
            await self.send({"type": "response.create"})

    async def send_text(self, text: str) -> None:
        self.translator.log.add("user", text)
        if self.link.conn is None:
            # The replayed log has the text; the new socket asks for its answer.
            self.uplink.respond_after_reconnect = not self._failed
            return
        await self.send(wire.message_item("user", text))
        await self.send({"type": "response.create"})

    async def cancel(self, played_ms: int | None = None) -> None:
        """Stop the response (unless it already ended) and cut its audio where playback was."""
        await self._deliver(self.translator.responses.cancel(played_ms))

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        """Hand the output back; once every call of the round has one, ask for the answer."""
        await self._deliver(self.translator.responses.tool_result(call_id, output))

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
        await self.link.close()
        self._take(self.translator.release())
        self._queue.put_nowait(None)
        if self.owns_client:
            await self.client.close()

    async def send(self, event: dict[str, Any]) -> bool:
        """Send one client event; False without a live socket (the reader handles drops)."""
        return await self.link.send(event)

    # ---- translation --------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        self._queue.put_nowait(event)

    def _take(self, out: Translation) -> None:
        """Emit a translation's events; bound the wait of an answer it holds for a transcript."""
        if out.committed:
            self.uplink.confirm()
        for event in out.events:
            self._emit(event)
        held = self.translator.responses.held
        if held is (self._hold[0] if self._hold is not None else None):
            return
        if self._hold is not None:
            self._hold[1].cancel()
            self._hold = None
        if held is not None:
            timer = asyncio.get_running_loop().call_later(self.transcript_wait_s, self._release)
            self._hold = (held, timer)

    def _release(self) -> None:
        self._take(self.translator.release())

    async def _deliver(self, out: Translation) -> None:
        self._take(out)
        for command in out.commands:
            await self.send(command)

    # ---- connection ---------------------------------------------------------------------------

    def _apply(self, config: SessionConfig) -> None:
        self.config = config
        self.link.session_id = config.session_id
        self.detects_turns = config.turn_detection is not None
        self.translator.server_vad = self.detects_turns

    def _session_update(self) -> dict[str, Any]:
        voice_locked = self.translator.responses.voice_locked
        return wire.session_update(
            self.config, transcribe_model=self.transcribe_model, include_voice=not voice_locked
        )

    async def _connect(self, *, delay_first: bool) -> None:
        """Open a socket, configure it and replay the conversation (retrying transient faults)."""
        replay = await self.link.open(self._setup, delay_first=delay_first)
        if self.uplink.resume(replay):
            self._emit(TranscriptFinal(""))  # too little to answer; the session stops waiting

    async def _setup(self, conn: AsyncRealtimeConnection) -> Replay:
        """Configure a fresh upstream session: it knows nothing of earlier sockets."""
        await conn.send_raw(json.dumps(self._session_update()))
        for item in wire.history_items(self.translator.log.entries()):
            await conn.send_raw(json.dumps(item))
        replay = self.uplink.replay()
        for event in replay.events:
            await conn.send_raw(json.dumps(event))
        return replay

    async def _read_forever(self) -> None:
        """Read server events; after a drop, reconnect with the context or fail for good."""
        try:
            while (conn := self.link.conn) is not None:
                code = await self.link.read(conn, self._on_server_event)
                expired, last_error = self.translator.expired, self.translator.last_error
                recoverable = expired or code in RECOVERABLE_CLOSE_CODES
                self._lose_connection(report=recoverable and not expired)
                if not recoverable:
                    self._fail(last_error or f"The AI service closed the session ({code}).")
                    return
                logger.info("realtime socket of %s closed (%d)", self.config.session_id, code)
                if expired:
                    self.link.restart_budget()  # the 60-minute cap is no fault of the socket
                await self._connect(delay_first=not expired)
        except UpstreamLostError as exc:
            self._fail(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("realtime reader failed in %s", self.config.session_id)
            await self.link.close()
            self._fail("The AI service connection failed.")

    async def _on_server_event(self, event: dict[str, Any]) -> None:
        await self._deliver(self.translator.translate(event))

    def _lose_connection(self, *, report: bool) -> None:
        """The socket closed: forget its state and end what was in flight (``report``: say so)."""
        self.uplink.lose(idle=self.detects_turns and not self.translator.speaking)
        in_flight, out = self.translator.abandon()
        self._take(out)
        if in_flight and report:
            self._emit(EngineFailure("The connection to the AI service dropped. Please try again."))

    def _fail(self, message: str) -> None:
        if self._failed or self._closed:
            return
        self._failed = True
        logger.warning("realtime engine of %s gave up: %s", self.config.session_id, message)
        self._emit(EngineFailure(message, code="upstream", fatal=True))
