"""What a ``SessionService`` tells its transport; each transport maps these onto its wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Transcript:
    """The user's words: partial while speaking, final once per utterance."""

    text: str
    final: bool
    confidence: float = 1.0


@dataclass(frozen=True)
class ResponseStart:
    response_id: str


@dataclass(frozen=True)
class ResponseText:
    """A streamed piece of the assistant's text."""

    response_id: str
    text: str


@dataclass(frozen=True)
class ResponseComplete:
    response_id: str
    text: str
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Audio:
    """Encoded speech in ``format``; ``is_last`` marks the final chunk of a response."""

    response_id: str
    data: bytes
    format: str
    is_last: bool = False


@dataclass(frozen=True)
class AudioComplete:
    response_id: str


@dataclass(frozen=True)
class SetState:
    state_key: str
    setter_key: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Navigation:
    page: str
    path: str
    title: str = ""


@dataclass(frozen=True)
class BargeIn:
    """The response was interrupted; ``latency_ms`` from the signal to output stopping."""

    response_id: str
    latency_ms: float


@dataclass(frozen=True)
class Vad:
    active: bool
    audio_start_ms: int | None = None
    audio_end_ms: int | None = None


@dataclass(frozen=True)
class Error:
    code: str
    message: str


@dataclass(frozen=True)
class SessionEnded:
    """The server ends the session; the transport closes with ``close_code``."""

    close_code: int
    reason: str


SessionEvent = (
    Transcript
    | ResponseStart
    | ResponseText
    | ResponseComplete
    | Audio
    | AudioComplete
    | SetState
    | Navigation
    | BargeIn
    | Vad
    | Error
    | SessionEnded
)
