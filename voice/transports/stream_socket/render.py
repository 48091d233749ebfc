"""Session events as messages of the binary streaming protocol (PROTOCOL.md section 3)."""

from __future__ import annotations

from typing import Any

from voice.session import events as ev
from voice.transports.codes import ERROR_CODES


def control(kind: str, data: Any = None, **metadata: Any) -> dict[str, Any]:
    return {"type": kind, "data": data, "metadata": metadata}


def error(code: str, message: str) -> dict[str, Any]:
    return control("error", message, error=code)


class StreamWire:
    """Turns events into text and binary messages; tracks each response's audio sequence."""

    def __init__(self) -> None:
        self.sequence = 0
        self._streaming: str | None = None  # response whose audio is being sent

    def messages(self, event: ev.SessionEvent) -> list[dict[str, Any] | bytes]:
        match event:
            case ev.Audio():
                return self._audio(event)
            case ev.Transcript():
                return [
                    control(
                        "user_transcript", event.text, partial=not event.final, final=event.final
                    )
                ]
            case ev.ResponseText():
                return [control("transcription", event.text, streaming=True, final=False)]
            case ev.ResponseComplete():
                return [control("transcription", event.text, streaming=False, final=True)]
            case ev.Vad():
                return [
                    control(
                        "vad",
                        None,
                        active=event.active,
                        audioStartMs=event.audio_start_ms,
                        audioEndMs=event.audio_end_ms,
                    )
                ]
            case ev.BargeIn():
                self._streaming = None
                return [control("barge_in", None, latency=round(event.latency_ms, 3))]
            case ev.Navigation():
                return [control("navigation", event.path, page=event.page, title=event.title)]
            case ev.Error():
                return [error(ERROR_CODES[event.kind], event.message)]
            case ev.SetState():
                # Extension: state setters are a JSON-protocol feature, carried the same way.
                return [
                    control(
                        "setState",
                        event.args,
                        stateKey=event.state_key,
                        setterKey=event.setter_key,
                    )
                ]
        return []

    def _audio(self, event: ev.Audio) -> list[dict[str, Any] | bytes]:
        out: list[dict[str, Any] | bytes] = []
        if self._streaming != event.response_id:
            self._streaming = event.response_id
            self.sequence += 1
            out.append(control("audio_response", None, sequence=self.sequence, streaming=True))
        if event.data:
            out.append(event.data)
        if event.is_last:
            out.append(control("audio_response", None, sequence=self.sequence, final=True))
            self._streaming = None
        return out
