"""How a session reacts to its engine's events, and the state of the responses in flight."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Protocol

from voice.audio.codecs import Encoder
from voice.engines import base as eng
from voice.session import events as ev
from voice.session.clock import TurnClock, now_ms
from voice.session.output import Output
from voice.session.relay import RelayStats
from voice.session.tools import ToolRunner
from voice.upstream.errors import UPSTREAM_ERRORS, describe

logger = logging.getLogger(__name__)


class Conversation(Protocol):
    """What the handler needs of the session that owns it: its turns, encoder and counters."""

    @property
    def turn(self) -> TurnClock | None: ...

    @property
    def encoder(self) -> Encoder: ...

    def begin_turn(self, input_kind: str) -> TurnClock: ...

    def finish_turn(self, reason: str, error: str = "") -> None: ...

    async def admit_utterance(self) -> bool: ...

    def count(self, counter: str, amount: int = 1) -> None: ...


class EngineEventHandler:
    """Turns engine events into session events, turn stamps and tool runs; decides barge-in."""

    def __init__(
        self,
        conversation: Conversation,
        engine: eng.Engine,
        tools: ToolRunner,
        output: Output,
        session_id: uuid.UUID,
    ) -> None:
        self._conversation = conversation
        self._engine = engine
        self._tools = tools
        self._output = output
        self._session_id = session_id
        self.response_id: str | None = None  # the response being played out
        self._audio_bytes = 0  # PCM of that response sent so far
        # The last finished response's audio: (first audio sent at, ms sent), for a barge-in
        # while the client is still playing it.
        self._last_audio: tuple[float, int] | None = None
        # A response's text held back until the user's transcript it answers has been sent.
        self._pending_complete: ev.ResponseComplete | None = None
        self.transcribing = False  # an utterance ended and its transcript is awaited
        self.relay = RelayStats()

    def expect_transcript(self) -> None:
        """The user's utterance ended: its transcript is on the way."""
        self.transcribing = True

    async def run(self) -> None:
        """Handle the engine's events until it stops; a failure ends the session."""
        events = aiter(self._engine.events())
        while True:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            except UPSTREAM_ERRORS as exc:  # no traceback: its text may quote the API key
                logger.error("the engine failed in session %s: %s", self._session_id, describe(exc))
                await self._end(ev.Ending.UPSTREAM, "engine_failed")
                return
            except Exception:
                logger.exception("the engine failed in session %s", self._session_id)
                await self._end(ev.Ending.UPSTREAM, "engine_failed")
                return
            try:
                await self.handle(event)
            except Exception:
                name = type(event).__name__
                logger.exception("handling %s failed in session %s", name, self._session_id)
                await self._end(ev.Ending.INTERNAL, "internal_error")
                return

    async def handle(self, event: eng.EngineEvent) -> None:
        turn = self._conversation.turn
        match event:
            case eng.AudioDelta():
                await self._on_audio(event)
            case eng.TextDelta():
                if self._output.is_cancelled(event.response_id):
                    return
                if turn is not None:
                    turn.stamp("first_text")
                    turn.assistant_text += event.text
                await self._output.send(ev.ResponseText(event.response_id, event.text))
            case eng.TranscriptDelta():
                partial = ev.Transcript(event.text, final=False, confidence=event.confidence)
                await self._output.send(partial)
            case eng.TranscriptFinal():
                await self._on_transcript_final(event)
            case eng.ResponseStarted():
                self._last_audio = None
                if turn is None:
                    self._conversation.begin_turn("audio")
                self.response_id = event.response_id
                self._audio_bytes = 0
                await self._output.send(ev.ResponseStart(event.response_id))
            case eng.TextDone():
                await self._on_text_done(event)
            case eng.ResponseDone():
                await self._on_response_done(event)
            case eng.ToolCall():
                await self._on_tool_call(event)
            case eng.SpeechStarted():
                await self._output.send(ev.Vad(True, audio_start_ms=event.audio_start_ms))
                await self.barge_in(now_ms())  # if the assistant is speaking or still heard
                if self._conversation.turn is None:
                    if not await self._conversation.admit_utterance():
                        await self._engine.clear_input()
                        return
                    self._conversation.begin_turn("audio")
            case eng.SpeechStopped():
                await self._output.send(ev.Vad(False, audio_end_ms=event.audio_end_ms))
                if (turn := self._conversation.turn) is not None:
                    turn.stamp("speech_end")
            case eng.EngineFailure():
                await self._on_failure(event)

    async def barge_in(self, signalled_at: float) -> None:
        """Stop the current response at once; nothing more of it reaches the client."""
        response_id = self.response_id
        if response_id is None:
            await self._barge_in_playback(signalled_at)
            return
        self.response_id = None
        self._pending_complete = None
        played_ms = self._audio_bytes // eng.BYTES_PER_MS
        await self._output.cancel(response_id, signalled_at)
        turn = self._conversation.turn
        if turn is not None:
            turn.stamp("barge_in")
            self._conversation.finish_turn("barge_in")
        await self._engine.cancel(played_ms)

    async def _barge_in_playback(self, signalled_at: float) -> None:
        """Interrupted while the client still plays a finished response: cut what is unheard."""
        last, self._last_audio = self._last_audio, None
        if last is None:
            return
        first_sent, audio_ms = last
        heard_ms = int(signalled_at - first_sent)
        if heard_ms >= audio_ms:
            return  # it had all been played
        await self._output.send(ev.BargeIn("", now_ms() - signalled_at))
        await self._engine.cancel(max(0, heard_ms))

    async def _on_transcript_final(self, event: eng.TranscriptFinal) -> None:
        self.transcribing = False
        turn = self._conversation.turn or self._conversation.begin_turn("audio")
        turn.stamp("transcript_final")
        turn.user_text = event.text
        if event.usage:
            turn.usage["transcription"] = event.usage
        await self._output.send(ev.Transcript(event.text, final=True))
        await self._send_pending_complete()
        if not event.text.strip() and self.response_id is None:
            self._conversation.finish_turn("cancelled")

    async def _on_audio(self, event: eng.AudioDelta) -> None:
        if self._output.is_cancelled(event.response_id) or event.response_id != self.response_id:
            return
        turn = self._conversation.turn
        if turn is not None:
            turn.stamp("first_audio_received")
        encoder = self._conversation.encoder
        chunks = encoder.encode(event.pcm)
        self._audio_bytes += len(event.pcm)
        for chunk in chunks:
            await self._output.send(ev.Audio(event.response_id, chunk, encoder.format))
            self._conversation.count("frames_out")
        if chunks:
            self.relay.add(now_ms() - event.received_at)
            if turn is not None:
                turn.stamp("first_audio_sent")

    async def _on_text_done(self, event: eng.TextDone) -> None:
        if self._output.is_cancelled(event.response_id):
            return
        complete = ev.ResponseComplete(event.response_id, event.text, event.usage)
        turn = self._conversation.turn
        if turn is not None:
            turn.assistant_text = event.text
            if event.usage:
                turn.usage["response"] = event.usage
            if turn.input_kind == "audio" and turn.transcript_final is None:
                # The realtime engine may still be transcribing the user: keep the chat in order.
                self._pending_complete = complete
                return
        await self._output.send(complete)

    async def _on_response_done(self, event: eng.ResponseDone) -> None:
        if self._output.is_cancelled(event.response_id):
            self._output.forget(event.response_id)
            return
        await self._send_pending_complete()
        encoder = self._conversation.encoder
        tail = encoder.flush()
        if self._audio_bytes or event.status == "completed":
            # The last chunk carries the encoder's tail (possibly empty) and `isLast`.
            tail = tail or [b""]
            for chunk in tail[:-1]:
                await self._output.send(ev.Audio(event.response_id, chunk, encoder.format))
            last = ev.Audio(event.response_id, tail[-1], encoder.format, True)
            await self._output.send(last)
        await self._output.send(ev.AudioComplete(event.response_id))
        self.response_id = None
        turn = self._conversation.turn
        if turn is None:
            return
        if turn.first_audio_sent is not None:
            self._last_audio = (turn.first_audio_sent, self._audio_bytes // eng.BYTES_PER_MS)
        if event.usage and "response" not in turn.usage:
            turn.usage["response"] = event.usage
        turn.stamp("response_done")
        status = {"completed": "completed", "cancelled": "cancelled"}.get(event.status, "error")
        self._conversation.finish_turn(status)

    async def _send_pending_complete(self) -> None:
        if self._pending_complete is not None:
            complete, self._pending_complete = self._pending_complete, None
            await self._output.send(complete)

    async def _on_tool_call(self, event: eng.ToolCall) -> None:
        if self._output.is_cancelled(event.response_id):
            return
        output, notices = await self._tools.run(event.name, event.arguments)
        for notice in notices:
            await self._output.send(notice)
        await self._engine.submit_tool_result(event.call_id, json.dumps(output))

    async def _on_failure(self, event: eng.EngineFailure) -> None:
        self.transcribing = False
        await self._output.send(ev.Error(ev.ErrorKind.UPSTREAM, event.message))
        if self._conversation.turn is not None and self.response_id is None:
            self._conversation.finish_turn("error", event.message)
        if event.fatal:
            await self._end(ev.Ending.UPSTREAM, "upstream_lost")

    async def _end(self, ending: ev.Ending, reason: str) -> None:
        await self._output.send(ev.SessionEnded(ending, reason))
