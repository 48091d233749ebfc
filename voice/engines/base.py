"""The engine seam: one small interface every AI backend implements.

An engine takes PCM16 mono audio at ``ENGINE_SAMPLE_RATE`` (plus text, commits, cancels and
tool results) and yields normalized ``EngineEvent`` values. It knows nothing of sockets, the
ORM or wire formats, so every transport works with every engine.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from voice.engines.voices import DEFAULT_VOICE

# Every engine consumes and produces PCM16 little-endian mono at this rate.
ENGINE_SAMPLE_RATE = 24000
BYTES_PER_MS = ENGINE_SAMPLE_RATE * 2 // 1000  # 48


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: JSON-schema parameters, as OpenAI expects them."""

    name: str
    description: str
    parameters: dict[str, Any]

    def as_openai_function(self) -> dict[str, Any]:
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }


@dataclass(frozen=True)
class TurnDetection:
    """Server VAD settings (PROTOCOL.md section 5 defaults)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500


@dataclass(frozen=True)
class SessionConfig:
    """What an engine needs to hold one conversation."""

    session_id: str
    instructions: str = ""
    voice: str = DEFAULT_VOICE
    language: str | None = None  # ISO-639-1 primary subtag, e.g. "en"
    speed: float = 1.0
    tools: tuple[ToolSpec, ...] = ()
    # None: the client ends each turn itself (commit). Otherwise the engine detects turns.
    turn_detection: TurnDetection | None = None
    # Earlier exchanges to replay when an engine reconnects or is replaced.
    history: tuple[tuple[str, str], ...] = ()  # (role, text)
    # Words and phrases the user is likely to say (site page names, topics), for recognisers
    # that can be biased toward them.
    hints: tuple[str, ...] = ()


# ---- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechStarted:
    """The engine heard the user start speaking."""

    audio_start_ms: int = 0


@dataclass(frozen=True)
class SpeechStopped:
    """The engine heard the user stop speaking: the turn's clock starts here."""

    audio_end_ms: int = 0


@dataclass(frozen=True)
class TranscriptDelta:
    """User speech recognised so far in this utterance (``text`` is the whole text so far)."""

    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class TranscriptFinal:
    """The final transcript of the user's utterance."""

    text: str
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResponseStarted:
    """The assistant began a response."""

    response_id: str


@dataclass(frozen=True)
class TextDelta:
    """A piece of response text, in order."""

    response_id: str
    text: str


@dataclass(frozen=True)
class AudioDelta:
    """A piece of synthesized speech: PCM16 mono at ``ENGINE_SAMPLE_RATE``."""

    response_id: str
    pcm: bytes
    # When the engine got it from upstream (monotonic ms): the start of the server's relay time.
    received_at: float = field(default_factory=lambda: time.monotonic() * 1000.0)


@dataclass(frozen=True)
class ToolCall:
    """The model called a tool; the session answers with ``Engine.submit_tool_result``."""

    response_id: str
    call_id: str
    name: str
    arguments: str  # JSON text as the model produced it


@dataclass(frozen=True)
class TextDone:
    """The response's text is complete (audio may still be streaming)."""

    response_id: str
    text: str
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseDone:
    """The response is over, audio included. ``status``: completed, cancelled or failed."""

    response_id: str
    status: str = "completed"
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineFailure:
    """A failure the session reports to the client.

    ``fatal`` means the engine cannot go on (the session ends); otherwise the next turn works.
    """

    message: str
    code: str = "upstream"
    fatal: bool = False


EngineEvent = (
    SpeechStarted
    | SpeechStopped
    | TranscriptDelta
    | TranscriptFinal
    | ResponseStarted
    | TextDelta
    | AudioDelta
    | ToolCall
    | TextDone
    | ResponseDone
    | EngineFailure
)


class EngineError(Exception):
    """Raised by engine methods; ``retryable`` says whether trying again could help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Engine(Protocol):
    """One conversation with one AI backend."""

    name: str
    # True when the engine finds the end of the user's speech itself (server VAD).
    detects_turns: bool

    async def start(self, config: SessionConfig) -> None:
        """Connect upstream and apply the configuration."""

    async def update(self, config: SessionConfig) -> None:
        """Apply a changed configuration (voice, instructions, tools) from the next turn on."""

    async def send_audio(self, pcm: bytes) -> None:
        """Append user audio (PCM16 mono, ``ENGINE_SAMPLE_RATE``)."""

    async def clear_input(self) -> None:
        """Drop buffered user audio: a new utterance starts."""

    async def commit(self) -> None:
        """End of the user's utterance: transcribe it and answer."""

    async def send_text(self, text: str) -> None:
        """Typed user input, answered like a spoken utterance."""

    async def cancel(self, played_ms: int | None = None) -> None:
        """Barge-in: stop the current response; ``played_ms`` is how much audio the user got."""

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        """Answer a ``ToolCall``; the engine continues the response."""

    def events(self) -> AsyncIterator[EngineEvent]:
        """The engine's events, until it is closed."""

    async def close(self) -> None:
        """Release upstream resources. Safe to call twice."""
