"""Server events of a GA Realtime session translated into engine events (reference 4).

``RealtimeTranslator`` holds the conversation state the translation needs and no socket: each
server event goes in, and a ``Translation`` comes out, the engine events it means and the client
events it wants sent. Dispatch is on the ``type`` string of the raw JSON: the SDK mis-parses
types it does not know. Responses are followed by its ``ResponseTracker``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from voice.engines.base import (
    EngineFailure,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TranscriptFinal,
)
from voice.engines.realtime.config import (
    BETA_NAMES,
    CLOSING_ERRORS,
    IGNORED_TYPES,
    SWALLOWED_ERRORS,
)
from voice.engines.realtime.responses import ResponseTracker
from voice.engines.realtime.state import ConversationLog, Translation
from voice.upstream.errors import describe_error

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Translation], None]


class RealtimeTranslator:
    """The state of one Realtime conversation as its server events tell it."""

    def __init__(self, session_id: str = "", history: Iterable[tuple[str, str]] = ()) -> None:
        self.session_id = session_id
        self.server_vad = False  # the service ends turns and interrupts responses itself
        self.log = ConversationLog(history)
        self.responses = ResponseTracker(self.log, session_id)
        self.speaking = False  # the server VAD heard speech start and no stop yet
        self.expired = False  # the service announced the end of the session
        self.last_error = ""  # why the service is about to close the socket
        self._partials: dict[str, str] = {}  # user item id -> transcript so far
        self._unknown: set[str] = set()  # event types already logged as unknown
        responses = self.responses
        self._handlers: dict[str, Handler] = {
            "input_audio_buffer.speech_started": self._on_speech_started,
            "input_audio_buffer.speech_stopped": self._on_speech_stopped,
            "input_audio_buffer.committed": self._on_committed,
            "conversation.item.input_audio_transcription.delta": self._on_transcript_delta,
            "conversation.item.input_audio_transcription.completed": self._on_transcript,
            "conversation.item.input_audio_transcription.failed": self._on_transcript_failed,
            "response.created": responses.on_created,
            "response.output_audio_transcript.delta": responses.on_text_delta,
            "response.output_text.delta": responses.on_text_delta,
            "response.output_audio_transcript.done": responses.on_text_done,
            "response.output_text.done": responses.on_text_done,
            "response.output_audio.delta": responses.on_audio_delta,
            "response.function_call_arguments.done": responses.on_call,
            "response.done": responses.on_done,
            "error": self._on_error,
        }

    def translate(self, event: dict[str, Any]) -> Translation:
        """One server event (parsed JSON) -> what it means."""
        out = Translation()
        kind = event.get("type")
        if not isinstance(kind, str):
            return out
        if kind in BETA_NAMES:
            self._note_once(kind, "realtime beta event name %s taken as its GA name")
            kind = BETA_NAMES[kind]
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(event, out)
        elif kind not in IGNORED_TYPES:
            self._note_once(kind, "realtime event type %s ignored")
        return out

    def release(self) -> Translation:
        """End the answer held for a transcript, if any: it waited long enough."""
        out = Translation()
        self.responses.release(out)
        return out

    def abandon(self) -> tuple[bool, Translation]:
        """The socket is gone: end the turn as failed and forget per-socket state.

        Returns whether anything was in flight (a response or a transcript), and its ending.
        """
        out = Translation()
        in_flight = self.responses.turn is not None or self.log.awaiting
        self.responses.abandon(out)
        if self.expired and self.log.awaiting:
            out.events.append(TranscriptFinal(""))  # that utterance is lost; stop waiting
        self.log.forget_pending()
        self._partials.clear()
        self.speaking = self.expired = False
        self.last_error = ""
        return in_flight, out

    # ---- the user's side ----------------------------------------------------------------------

    def _on_speech_started(self, event: dict[str, Any], out: Translation) -> None:
        self.speaking = True
        if self.server_vad:
            self.responses.interrupted()
        out.events.append(SpeechStarted(int(event.get("audio_start_ms") or 0)))

    def _on_speech_stopped(self, event: dict[str, Any], out: Translation) -> None:
        self.speaking = False
        out.events.append(SpeechStopped(int(event.get("audio_end_ms") or 0)))

    def _on_committed(self, event: dict[str, Any], out: Translation) -> None:
        out.committed = True
        self.log.reserve(str(event.get("item_id") or ""))

    def _on_transcript_delta(self, event: dict[str, Any], out: Translation) -> None:
        item_id = str(event.get("item_id") or "")
        text = self._partials.get(item_id, "") + str(event.get("delta") or "")
        self._partials[item_id] = text
        out.events.append(TranscriptDelta(text))

    def _on_transcript(self, event: dict[str, Any], out: Translation) -> None:
        usage = event.get("usage")
        final = TranscriptFinal(
            str(event.get("transcript") or ""), usage if isinstance(usage, dict) else None
        )
        self._transcribed(str(event.get("item_id") or ""), final, out)

    def _on_transcript_failed(self, event: dict[str, Any], out: Translation) -> None:
        error = event.get("error") or {}
        described = describe_error(error)
        logger.warning("input transcription failed in %s: %s", self.session_id, described)
        self._transcribed(str(event.get("item_id") or ""), TranscriptFinal(""), out)

    def _transcribed(self, item_id: str, final: TranscriptFinal, out: Translation) -> None:
        self._partials.pop(item_id, None)
        self.log.fill(item_id, final.text)
        out.events.append(final)
        if not self.log.awaiting:
            self.responses.release(out)  # an answer held for this transcript goes out now

    # ---- errors -------------------------------------------------------------------------------

    def _on_error(self, event: dict[str, Any], out: Translation) -> None:
        error = event.get("error") or {}
        code = error.get("code")
        if code in SWALLOWED_ERRORS:
            logger.debug("realtime %s in %s (expected race)", code, self.session_id)
            return
        described = describe_error(error)
        logger.warning("realtime error in %s: %s", self.session_id, described)
        if code == "input_audio_buffer_commit_empty":
            out.events.append(TranscriptFinal(""))  # nothing to transcribe: stop waiting
        elif code == "session_expired":
            self.expired = True  # the close follows; the owner reconnects with the context
        elif code in CLOSING_ERRORS:
            self.last_error = f"The AI service ended the session ({described})."
        else:
            out.events.append(EngineFailure(f"The AI service reported an error ({described})."))

    def _note_once(self, kind: str, message: str) -> None:
        if kind not in self._unknown:
            self._unknown.add(kind)
            logger.info(message, kind)
