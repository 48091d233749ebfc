"""Server events of a GA Realtime session, translated into engine events (reference 4).

Dispatch is on the ``type`` string of the raw JSON: the SDK mis-parses types it does not know.
One *turn* is one response as the session sees it; when the model calls tools, the follow-up
upstream response continues the same turn, so the session gets one ResponseStarted, one
TextDone (completed responses only) and one ResponseDone per answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from voice.engines.base import (
    AudioDelta,
    EngineEvent,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    SessionConfig,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    TextDone,
    ToolCall,
    TranscriptDelta,
    TranscriptFinal,
)
from voice.engines.realtime.config import (
    BETA_NAMES,
    CLOSING_ERRORS,
    IGNORED_TYPES,
    STATUSES,
    SWALLOWED_ERRORS,
)
from voice.engines.realtime.state import ConversationLog, Turn

logger = logging.getLogger(__name__)

# How long a finished answer waits for the user's transcript, so the chat stays in order.
TRANSCRIPT_WAIT_S = 2.0

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class RealtimeEvents:
    """Turn and transcript state fed by server events. Subclasses supply ``send``."""

    config: SessionConfig
    log: ConversationLog

    def __init__(self) -> None:
        self._queue: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self.turn: Turn | None = None
        self.playback: list[list[Any]] = []  # audio items of the latest response
        self.speaking = False  # the server VAD heard speech start and no stop yet
        self.voice_locked = False  # assistant audio went out: the voice is fixed
        self.expired = False  # the service announced the end of the session
        self.last_error = ""
        self.uncommitted_bytes = 0
        # Audio, and a commit, the service has not yet confirmed with `committed`: a new socket
        # must be sent them again if this one drops.
        self.unconfirmed_bytes = 0
        self.commit_unconfirmed = False
        self._partials: dict[str, str] = {}  # user item id -> transcript so far
        self._held: Turn | None = None  # answered, waiting for the user's transcript
        self._hold_timer: asyncio.TimerHandle | None = None
        self._unknown: set[str] = set()
        self._handlers: dict[str, Handler] = {
            "input_audio_buffer.speech_started": self._on_speech_started,
            "input_audio_buffer.speech_stopped": self._on_speech_stopped,
            "input_audio_buffer.committed": self._on_committed,
            "conversation.item.input_audio_transcription.delta": self._on_transcript_delta,
            "conversation.item.input_audio_transcription.completed": self._on_transcript,
            "conversation.item.input_audio_transcription.failed": self._on_transcript_failed,
            "response.created": self._on_response_created,
            "response.output_audio_transcript.delta": self._on_text_delta,
            "response.output_text.delta": self._on_text_delta,
            "response.output_audio_transcript.done": self._on_text_done,
            "response.output_text.done": self._on_text_done,
            "response.output_audio.delta": self._on_audio_delta,
            "response.function_call_arguments.done": self._on_call,
            "response.done": self._on_response_done,
            "error": self._on_error,
        }

    async def send(self, event: dict[str, Any]) -> bool:
        """Send a client event; False when no socket is up."""
        raise NotImplementedError

    def emit(self, event: EngineEvent) -> None:
        self._queue.put_nowait(event)

    async def dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        if kind in BETA_NAMES:
            self._note_once(kind, "realtime beta event name %s taken as its GA name")
            kind = BETA_NAMES[kind]
        handler = self._handlers.get(kind)
        if handler is not None:
            await handler(event)
        elif kind not in IGNORED_TYPES:
            self._note_once(kind, "realtime event type %s ignored")

    # ---- turns --------------------------------------------------------------------------------

    def finish(self, turn: Turn, status: str) -> None:
        """End a turn: TextDone (completed only), ResponseDone; log what the assistant said.

        A completed answer whose user transcript is still coming waits for it (bounded), so
        TranscriptFinal always comes before TextDone (PROTOCOL.md section 2 order).
        """
        if self.turn is turn:
            self.turn = None
        if status == "completed" and self.log.awaiting:
            self.release()
            self._held = turn
            loop = asyncio.get_running_loop()
            self._hold_timer = loop.call_later(TRANSCRIPT_WAIT_S, self.release)
            return
        self._end(turn, status)

    def release(self) -> None:
        """End the answer held for a transcript, if any."""
        turn, self._held = self._held, None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        if turn is not None:
            self._end(turn, "completed")

    def _end(self, turn: Turn, status: str) -> None:
        if status == "completed":
            self.emit(TextDone(turn.id, turn.text, dict(turn.usage)))
            if turn.text:
                self.log.add("assistant", turn.text)
        self.emit(ResponseDone(turn.id, status=status, usage=dict(turn.usage)))

    async def continue_turn(self, turn: Turn) -> None:
        """Every tool call of the round has its output: the server never answers by itself."""
        turn.continuing = True
        turn.round_calls = 0
        await self.send({"type": "response.create"})

    def abandon(self, expired: bool) -> bool:
        """The socket is gone: end the turn as failed and reset per-socket state.

        Returns whether anything was in flight (a response or a transcript).
        """
        in_flight = self.turn is not None or self.log.awaiting
        self.release()
        if self.turn is not None:
            self.finish(self.turn, "failed")
        if expired and self.log.awaiting:
            self.emit(TranscriptFinal(""))  # that utterance is lost; stop waiting for it
        self.log.forget_pending()
        self._partials.clear()
        self.playback = []
        self.speaking = self.voice_locked = self.expired = False
        self.last_error = ""
        self.uncommitted_bytes = 0
        return in_flight

    def _current(self, event: dict[str, Any]) -> Turn | None:
        turn = self.turn
        response_id = event.get("response_id")
        if turn is None or (response_id and response_id != turn.upstream_id):
            return None
        return turn

    # ---- handlers -----------------------------------------------------------------------------

    async def _on_speech_started(self, event: dict[str, Any]) -> None:
        self.speaking = True
        if self.turn is not None and self.turn.upstream_id and self.config.turn_detection:
            self.turn.cancel_sent = True  # interrupt_response: the server cancels it itself
        self.emit(SpeechStarted(int(event.get("audio_start_ms") or 0)))

    async def _on_speech_stopped(self, event: dict[str, Any]) -> None:
        self.speaking = False
        self.emit(SpeechStopped(int(event.get("audio_end_ms") or 0)))

    async def _on_committed(self, event: dict[str, Any]) -> None:
        self.uncommitted_bytes = self.unconfirmed_bytes = 0
        self.commit_unconfirmed = False
        self.log.reserve(str(event.get("item_id") or ""))

    async def _on_transcript_delta(self, event: dict[str, Any]) -> None:
        item_id = str(event.get("item_id") or "")
        text = self._partials.get(item_id, "") + str(event.get("delta") or "")
        self._partials[item_id] = text
        self.emit(TranscriptDelta(text))

    async def _on_transcript(self, event: dict[str, Any]) -> None:
        item_id = str(event.get("item_id") or "")
        self._partials.pop(item_id, None)
        text = str(event.get("transcript") or "")
        self.log.fill(item_id, text)
        usage = event.get("usage")
        self.emit(TranscriptFinal(text, usage=usage if isinstance(usage, dict) else None))
        if not self.log.awaiting:
            self.release()

    async def _on_transcript_failed(self, event: dict[str, Any]) -> None:
        item_id = str(event.get("item_id") or "")
        self._partials.pop(item_id, None)
        self.log.fill(item_id, "")
        error = event.get("error") or {}
        logger.warning(
            "input transcription failed in %s: %s", self.config.session_id, error.get("code")
        )
        self.emit(TranscriptFinal(""))
        if not self.log.awaiting:
            self.release()

    async def _on_response_created(self, event: dict[str, Any]) -> None:
        response_id = str((event.get("response") or {}).get("id") or "")
        self.release()
        turn = self.turn
        if turn is not None and turn.continuing:
            turn.continuing, turn.upstream_id = False, response_id
            if turn.cancel_sent:  # the user interrupted while the tools ran
                await self.send({"type": "response.cancel", "response_id": response_id})
            return
        if turn is not None:  # one response at a time: the old one is over
            self.finish(turn, "cancelled")
        self.turn = Turn(id=response_id, upstream_id=response_id)
        self.playback = self.turn.audio
        self.emit(ResponseStarted(response_id))

    async def _on_text_delta(self, event: dict[str, Any]) -> None:
        turn = self._current(event)
        delta = str(event.get("delta") or "")
        if turn is not None and delta:
            turn.add_text(str(event.get("item_id") or ""), delta)
            self.emit(TextDelta(turn.id, delta))

    async def _on_text_done(self, event: dict[str, Any]) -> None:
        turn = self._current(event)
        final = event.get("transcript", event.get("text"))
        if turn is not None and isinstance(final, str):
            turn.texts[str(event.get("item_id") or "")] = final  # the authoritative text

    async def _on_audio_delta(self, event: dict[str, Any]) -> None:
        turn = self._current(event)
        if turn is None:
            return
        try:
            pcm = base64.b64decode(event.get("delta") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            logger.warning("undecodable audio delta in %s", self.config.session_id)
            return
        if pcm:
            item_id = str(event.get("item_id") or "")
            turn.add_audio(item_id, len(pcm))
            self.voice_locked = True
            self.emit(AudioDelta(turn.id, pcm, item_id or None))

    async def _on_call(self, event: dict[str, Any]) -> None:
        turn = self._current(event)
        call_id = str(event.get("call_id") or "")
        if turn is None or not call_id:
            return
        turn.pending_calls.add(call_id)
        turn.round_calls += 1
        name, arguments = str(event.get("name") or ""), str(event.get("arguments") or "")
        self.emit(ToolCall(turn.id, call_id, name, arguments))

    async def _on_response_done(self, event: dict[str, Any]) -> None:
        response = event.get("response") or {}
        turn = self.turn
        if turn is None or response.get("id") != turn.upstream_id:
            return
        turn.upstream_id = None
        usage = response.get("usage")
        turn.add_usage(usage if isinstance(usage, dict) else None)
        status = str(response.get("status") or "completed")
        if status == "completed" and turn.round_calls:
            if turn.cancel_sent:  # interrupted: the tools' answer is no longer wanted
                status = "cancelled"
            elif not turn.pending_calls:
                await self.continue_turn(turn)
                return
            else:
                return  # submit_tool_result continues it
        if status not in STATUSES:
            details = response.get("status_details") or {}
            error = details.get("error") or {}
            logger.warning(
                "response %s ended %s in %s: %s",
                turn.id,
                status,
                self.config.session_id,
                error.get("code"),
            )
        self.finish(turn, STATUSES.get(status, "failed"))
        if status not in STATUSES:
            self.emit(EngineFailure("The AI service could not answer. Please try again."))

    async def _on_error(self, event: dict[str, Any]) -> None:
        error = event.get("error") or {}
        code = error.get("code")
        if code in SWALLOWED_ERRORS:
            logger.debug("realtime %s in %s (expected race)", code, self.config.session_id)
            return
        logger.warning(
            "realtime error in %s: %s (code %s, param %s)",
            self.config.session_id,
            error.get("message"),
            code,
            error.get("param"),
        )
        if code == "input_audio_buffer_commit_empty":
            self.emit(TranscriptFinal(""))  # nothing to transcribe: the session stops waiting
        elif code == "session_expired":
            self.expired = True  # the close follows; we reconnect with the context replayed
        elif code in CLOSING_ERRORS:
            self.last_error = f"The AI service ended the session ({code})."
        else:
            kind = code or error.get("type") or "unknown"
            self.emit(EngineFailure(f"The AI service reported an error ({kind})."))

    def _note_once(self, kind: str, message: str) -> None:
        if kind not in self._unknown:
            self._unknown.add(kind)
            logger.info(message, kind)
