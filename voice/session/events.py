"""What a ``SessionService`` tells its transport; each transport maps these onto its wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

RATE_LIMIT_MESSAGE = "Rate limit exceeded"


class ErrorKind(Enum):
    """What went wrong, in the session's terms; each transport names it on its wire."""

    BUSY = "busy"  # the previous utterance is still being transcribed
    BAD_AUDIO = "bad_audio"  # client audio that would not decode
    RATE_LIMITED = "rate_limited"  # a usage limit refused the request
    UPSTREAM = "upstream"  # the AI service failed this turn


class Ending(Enum):
    """Why the server ends a session; each transport turns it into a close code."""

    NORMAL = "normal"  # staff ended it
    FLOODED = "flooded"  # audio faster than real time allows
    UPSTREAM = "upstream"  # the AI service is lost
    INTERNAL = "internal"  # a fault in our own handling
    REVOKED = "revoked"  # the user was deactivated or changed password


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
    kind: ErrorKind
    message: str


@dataclass(frozen=True)
class SessionEnded:
    """The server ends the session; ``reason`` is recorded as the session's end reason."""

    ending: Ending
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
