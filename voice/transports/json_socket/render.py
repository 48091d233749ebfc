"""Session events as JSON messages of PROTOCOL.md section 2."""

from __future__ import annotations

import base64
from typing import Any

from voice.session import events as ev
from voice.transports.codes import ERROR_CODES


def error_message(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "message": message, "code": code}


def to_json_message(event: ev.SessionEvent) -> dict[str, Any] | None:
    """The wire message for an event, or None when this protocol has no such message."""
    match event:
        case ev.Transcript(final=False):
            return {
                "type": "transcription_partial",
                "text": event.text,
                "confidence": event.confidence,
            }
        case ev.Transcript():
            return {"type": "transcription_final", "text": event.text}
        case ev.ResponseStart():
            return {"type": "response_start", "responseId": event.response_id}
        case ev.ResponseText():
            return {"type": "response_chunk", "text": event.text}
        case ev.ResponseComplete():
            return {"type": "response_complete", "text": event.text, "usage": event.usage}
        case ev.Audio():
            return {
                "type": "audio_chunk",
                "data": base64.b64encode(event.data).decode("ascii"),
                "isLast": event.is_last,
                "format": event.format,
            }
        case ev.AudioComplete():
            return {"type": "audio_complete"}
        case ev.SetState():
            return {
                "type": "setState",
                "stateKey": event.state_key,
                "setterKey": event.setter_key,
                "args": event.args,
            }
        case ev.Navigation():
            # Extension: the JSON protocol has no navigation message of its own.
            return {"type": "navigation", "page": event.page, "path": event.path}
        case ev.Error():
            return error_message(ERROR_CODES[event.kind], event.message)
    return None
