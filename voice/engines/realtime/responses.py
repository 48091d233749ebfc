"""Responses of a Realtime session as the session sees them: turns, tool rounds, barge-in.

``ResponseTracker`` follows the upstream responses and ends each *turn* once: when the model
calls tools, the follow-up upstream response continues the same turn, so the session gets one
ResponseStarted, one TextDone (completed responses only) and one ResponseDone per answer.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from voice.engines.base import (
    AudioDelta,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    TextDelta,
    TextDone,
    ToolCall,
)
from voice.engines.realtime.config import STATUSES, tool_output_item
from voice.engines.realtime.state import Answer, ConversationLog, Translation, truncation_point
from voice.upstream.errors import describe_error

logger = logging.getLogger(__name__)


class ResponseTracker:
    """The running turn, the answer held for a transcript, and the audio played of the latest.

    A completed answer whose user transcript is still coming (``log.awaiting``) is *held*: its
    TextDone and ResponseDone wait for the transcript, so TranscriptFinal always comes first
    (PROTOCOL.md section 2 order). ``release`` ends it; the owner bounds the wait.
    """

    def __init__(self, log: ConversationLog, session_id: str = "") -> None:
        self.log = log  # the conversation the assistant's answers are added to
        self.session_id = session_id
        self.turn: Answer | None = None
        self.held: Answer | None = None  # answered, waiting for the user's transcript
        self.playback: list[list[Any]] = []  # audio items of the latest response
        self.voice_locked = False  # assistant audio went out: the voice is fixed

    # ---- the session's actions ----------------------------------------------------------------

    def cancel(self, played_ms: int | None) -> Translation:
        """Barge-in: stop the response (unless it already ended), cut its audio at ``played_ms``."""
        out = Translation()
        self.release(out)
        turn, audio, generating = self.turn, self.playback, False
        if turn is not None:
            generating = turn.upstream_id is not None or turn.continuing
            if not generating:
                self.finish(turn, "cancelled", out)  # it was only waiting for tool results
            elif not turn.cancel_sent:
                turn.cancel_sent = True
                if turn.upstream_id is not None:
                    out.commands.append(_cancel(turn.upstream_id))
        if played_ms is None or not audio:
            return out
        self.playback = []  # cut once
        point = truncation_point(audio, played_ms, generating)
        if point is not None:
            item_id, audio_end_ms = point
            out.commands.append(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": audio_end_ms,
                }
            )
        return out

    def tool_result(self, call_id: str, output: str) -> Translation:
        """Hand a tool's output back; once every call of the round has one, ask for the answer."""
        out = Translation(commands=[tool_output_item(call_id, output)])
        turn = self.turn
        if turn is None or call_id not in turn.pending_calls:
            return out
        turn.pending_calls.discard(call_id)
        if not turn.pending_calls and turn.upstream_id is None and not turn.continuing:
            self._continue(turn, out)
        return out

    def interrupted(self) -> None:
        """The server VAD heard speech: with ``interrupt_response`` it cancels the answer itself."""
        if self.turn is not None and self.turn.upstream_id:
            self.turn.cancel_sent = True

    # ---- ending turns -------------------------------------------------------------------------

    def finish(self, turn: Answer, status: str, out: Translation) -> None:
        """End a turn (TextDone when completed, then ResponseDone), or hold it for a transcript."""
        if self.turn is turn:
            self.turn = None
        if status == "completed" and self.log.awaiting:
            self.release(out)
            self.held = turn
            return
        self._end(turn, status, out)

    def release(self, out: Translation) -> None:
        """End the answer held for a transcript, if any."""
        turn, self.held = self.held, None
        if turn is not None:
            self._end(turn, "completed", out)

    def abandon(self, out: Translation) -> None:
        """The socket is gone: end the running turn as failed and forget the audio played."""
        self.release(out)
        if self.turn is not None:
            self.finish(self.turn, "failed", out)
        self.playback = []
        self.voice_locked = False

    def _end(self, turn: Answer, status: str, out: Translation) -> None:
        if status == "completed":
            out.events.append(TextDone(turn.id, turn.text, dict(turn.usage)))
            if turn.text:
                self.log.add("assistant", turn.text)
        out.events.append(ResponseDone(turn.id, status=status, usage=dict(turn.usage)))

    def _continue(self, turn: Answer, out: Translation) -> None:
        """Every tool call of the round has its output: the server never answers by itself."""
        turn.continuing = True
        turn.round_calls = 0
        out.commands.append({"type": "response.create"})

    def _current(self, event: dict[str, Any]) -> Answer | None:
        turn = self.turn
        response_id = event.get("response_id")
        if turn is None or (response_id and response_id != turn.upstream_id):
            return None
        return turn

    # ---- server events ------------------------------------------------------------------------

    def on_created(self, event: dict[str, Any], out: Translation) -> None:
        response_id = str((event.get("response") or {}).get("id") or "")
        self.release(out)
        turn = self.turn
        if turn is not None and turn.continuing:
            turn.continuing, turn.upstream_id = False, response_id
            if turn.cancel_sent:  # the user interrupted while the tools ran
                out.commands.append(_cancel(response_id))
            return
        if turn is not None:  # one response at a time: the old one is over
            self.finish(turn, "cancelled", out)
        self.turn = Answer(id=response_id, upstream_id=response_id)
        self.playback = self.turn.audio
        out.events.append(ResponseStarted(response_id))

    def on_text_delta(self, event: dict[str, Any], out: Translation) -> None:
        turn = self._current(event)
        delta = str(event.get("delta") or "")
        if turn is not None and delta:
            turn.add_text(str(event.get("item_id") or ""), delta)
            out.events.append(TextDelta(turn.id, delta))

    def on_text_done(self, event: dict[str, Any], out: Translation) -> None:
        turn = self._current(event)
        final = event.get("transcript", event.get("text"))
        if turn is not None and isinstance(final, str):
            turn.texts[str(event.get("item_id") or "")] = final  # the authoritative text

    def on_audio_delta(self, event: dict[str, Any], out: Translation) -> None:
        turn = self._current(event)
        if turn is None:
            return
        try:
            pcm = base64.b64decode(event.get("delta") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            logger.warning("undecodable audio delta in %s", self.session_id)
            return
        if pcm:
            turn.add_audio(str(event.get("item_id") or ""), len(pcm))
            self.voice_locked = True
            out.events.append(AudioDelta(turn.id, pcm))

    def on_call(self, event: dict[str, Any], out: Translation) -> None:
        turn = self._current(event)
        call_id = str(event.get("call_id") or "")
        if turn is None or not call_id:
            return
        turn.pending_calls.add(call_id)
        turn.round_calls += 1
        name, arguments = str(event.get("name") or ""), str(event.get("arguments") or "")
        out.events.append(ToolCall(turn.id, call_id, name, arguments))

    def on_done(self, event: dict[str, Any], out: Translation) -> None:
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
                self._continue(turn, out)
                return
            else:
                return  # tool_result continues it
        if status not in STATUSES:
            error = (response.get("status_details") or {}).get("error") or {}
            logger.warning(
                "response %s ended %s in %s: %s",
                turn.id,
                status,
                self.session_id,
                describe_error(error),
            )
        self.finish(turn, STATUSES.get(status, "failed"), out)
        if status not in STATUSES:
            out.events.append(EngineFailure("The AI service could not answer. Please try again."))


def _cancel(response_id: str) -> dict[str, Any]:
    return {"type": "response.cancel", "response_id": response_id}
