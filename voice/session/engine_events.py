"""How a ``SessionService`` reacts to its engine's events: the other half of ``session.py``."""

from __future__ import annotations

import json
import logging

from voice.engines import base as eng
from voice.session import events as ev
from voice.session.clock import now_ms
from voice.transports.json_socket.parse import CLOSE_INTERNAL, CLOSE_UPSTREAM, UPSTREAM

logger = logging.getLogger(__name__)


class EngineEvents:
    """Turns engine events into session events, turn stamps and tool runs.

    Mixed into ``SessionService``, whose state (turn, response, encoder, tools) it works on.
    """

    async def _pump(self) -> None:
        events = aiter(self.engine.events())
        while True:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            except Exception:
                logger.exception("the engine failed in session %s", self.id)
                await self.end(CLOSE_UPSTREAM, "engine_failed")
                return
            try:
                await self._on_engine_event(event)
            except Exception:
                logger.exception("handling %s failed in session %s", type(event).__name__, self.id)
                await self.end(CLOSE_INTERNAL, "internal_error")
                return

    async def _on_engine_event(self, event: eng.EngineEvent) -> None:
        match event:
            case eng.AudioDelta():
                await self._on_audio(event)
            case eng.TextDelta():
                if event.response_id in self._dropped:
                    return
                if self.turn is not None:
                    self.turn.stamp("first_text")
                    self.turn.assistant_text += event.text
                await self._send(ev.ResponseText(event.response_id, event.text))
            case eng.TranscriptDelta():
                await self._send(
                    ev.Transcript(event.text, final=False, confidence=event.confidence)
                )
            case eng.TranscriptFinal():
                await self._on_transcript_final(event)
            case eng.ResponseStarted():
                await self._on_response_started(event)
            case eng.TextDone():
                await self._on_text_done(event)
            case eng.ResponseDone():
                await self._on_response_done(event)
            case eng.ToolCall():
                await self._on_tool_call(event)
            case eng.SpeechStarted():
                await self._send(ev.Vad(True, audio_start_ms=event.audio_start_ms))
                await self.barge_in(now_ms())  # if the assistant is speaking or still heard
                if self.turn is None:
                    if not await self.admission.utterance():
                        await self.engine.clear_input()
                        return
                    self._begin_turn("audio")
            case eng.SpeechStopped():
                await self._send(ev.Vad(False, audio_end_ms=event.audio_end_ms))
                if self.turn is not None:
                    self.turn.stamp("speech_end")
            case eng.EngineFailure():
                await self._on_failure(event)

    async def _on_transcript_final(self, event: eng.TranscriptFinal) -> None:
        self.transcribing = False
        if self.turn is None:
            self._begin_turn("audio")
        assert self.turn is not None
        self.turn.stamp("transcript_final")
        self.turn.user_text = event.text
        if event.usage:
            self.turn.usage["transcription"] = event.usage
        await self._send(ev.Transcript(event.text, final=True))
        if self._pending_complete is not None:
            complete, self._pending_complete = self._pending_complete, None
            await self._send(complete)
        if not event.text.strip() and self.response_id is None:
            self._finish_turn("cancelled")

    async def _on_response_started(self, event: eng.ResponseStarted) -> None:
        self._last_audio = None
        if self.turn is None:
            self._begin_turn("audio")
        self.response_id = event.response_id
        self._response_audio_bytes = 0
        await self._send(ev.ResponseStart(event.response_id))

    async def _on_audio(self, event: eng.AudioDelta) -> None:
        if event.response_id in self._dropped or event.response_id != self.response_id:
            return
        turn = self.turn
        if turn is not None:
            turn.stamp("first_audio_received")
        chunks = self.encoder.encode(event.pcm)
        self._response_audio_bytes += len(event.pcm)
        for chunk in chunks:
            await self._send(ev.Audio(event.response_id, chunk, self.encoder.format))
            self.counters["frames_out"] += 1
        if chunks:
            self.relay.add(now_ms() - event.received_at)
            if turn is not None:
                turn.stamp("first_audio_sent")

    async def _on_text_done(self, event: eng.TextDone) -> None:
        if event.response_id in self._dropped:
            return
        complete = ev.ResponseComplete(event.response_id, event.text, event.usage)
        if self.turn is not None:
            self.turn.assistant_text = event.text
            if event.usage:
                self.turn.usage["response"] = event.usage
            if self.turn.input_kind == "audio" and self.turn.transcript_final is None:
                # The realtime engine may still be transcribing the user: keep the chat in order.
                self._pending_complete = complete
                return
        await self._send(complete)

    async def _on_response_done(self, event: eng.ResponseDone) -> None:
        if event.response_id in self._dropped:
            self._dropped.discard(event.response_id)
            return
        if self._pending_complete is not None:
            complete, self._pending_complete = self._pending_complete, None
            await self._send(complete)
        tail = self.encoder.flush()
        if self._response_audio_bytes or event.status == "completed":
            # The last chunk carries the encoder's tail (possibly empty) and `isLast`.
            tail = tail or [b""]
            for chunk in tail[:-1]:
                await self._send(ev.Audio(event.response_id, chunk, self.encoder.format))
            await self._send(ev.Audio(event.response_id, tail[-1], self.encoder.format, True))
        await self._send(ev.AudioComplete(event.response_id))
        self.response_id = None
        first_sent = self.turn.first_audio_sent if self.turn is not None else None
        if first_sent is not None:
            self._last_audio = (first_sent, self._response_audio_bytes // eng.BYTES_PER_MS)
        if self.turn is not None:
            if event.usage and "response" not in self.turn.usage:
                self.turn.usage["response"] = event.usage
            self.turn.stamp("response_done")
            status = {"completed": "completed", "cancelled": "cancelled"}.get(event.status, "error")
            self._finish_turn(status)

    async def _on_tool_call(self, event: eng.ToolCall) -> None:
        if event.response_id in self._dropped:
            return
        output, notices = await self.tools.run(event.name, event.arguments)
        for notice in notices:
            await self._send(notice)
        await self.engine.submit_tool_result(event.call_id, json.dumps(output))

    async def _on_failure(self, event: eng.EngineFailure) -> None:
        self.transcribing = False
        await self._error(event.code or UPSTREAM, event.message)
        if self.turn is not None and self.response_id is None:
            self._finish_turn("error", event.message)
        if event.fatal:
            await self.end(CLOSE_UPSTREAM, "upstream_lost")
