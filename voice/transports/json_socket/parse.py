"""The JSON voice protocol of PROTOCOL.md section 2: parsing and validation.

Pure Python: nothing here imports Django or Channels. Bad input raises ``ProtocolError``
with the contract's error code; the transport answers it and keeps the connection.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voice.engines.voices import DEFAULT_VOICE, VOICES
from voice.session.settings import SessionSettings
from voice.transports.codes import BAD_MESSAGE, TOO_LARGE, UNKNOWN_TYPE
from voice.transports.protocol import ProtocolError, load_object


@dataclass(frozen=True)
class Limits:
    """Field caps (PROTOCOL.md section 7)."""

    max_text_chars: int = 4000
    max_context_bytes: int = 64 * 1024
    max_audio_chunk_bytes: int = 256 * 1024


class _Message(BaseModel):
    # Extra fields are extensions a newer client may send: ignored, never an error.
    model_config = ConfigDict(extra="ignore", strict=True)


class VoiceSettings(BaseModel):
    """``config.settings`` as sent; unknown settings are kept and ignored."""

    model_config = ConfigDict(extra="allow")

    language: str | None = Field(default=None, max_length=35)
    voiceId: Literal[VOICES] = DEFAULT_VOICE  # type: ignore[valid-type]
    # Strict: "48000" for a number or 1 for a bool is bad_message, never silently coerced.
    rate: float = Field(default=1.0, ge=0.25, le=4.0, strict=True)
    audioFormat: Literal["webm", "pcm16", "opus"] = "webm"
    sampleRate: int = Field(default=24000, ge=8000, le=48000, strict=True)
    outputFormat: Literal["mp3", "pcm16", "opus"] = "mp3"
    autoAddToMessages: bool = Field(default=True, strict=True)

    def to_session(self) -> SessionSettings:
        return SessionSettings(
            language=self.language,
            voice_id=self.voiceId,
            rate=self.rate,
            audio_format=self.audioFormat,
            sample_rate=self.sampleRate,
            output_format=self.outputFormat,
            extra=dict(self.model_extra or {}),
        )


class Auth(_Message):
    type: Literal["auth"]
    token: str = Field(min_length=1)
    userId: Any = None


class Config(_Message):
    type: Literal["config"]
    settings: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class StartListening(_Message):
    type: Literal["start_listening"]


class StopListening(_Message):
    type: Literal["stop_listening"]


class AudioChunk(_Message):
    type: Literal["audio_chunk"]
    data: str
    timestamp: float | int | None = None


class Text(_Message):
    type: Literal["text"]
    text: str = Field(min_length=1)


class Ping(_Message):
    type: Literal["ping"]
    payload: Any = None


ClientMessage = Auth | Config | StartListening | StopListening | AudioChunk | Text | Ping
MESSAGE_TYPES: dict[str, type[_Message]] = {
    "auth": Auth,
    "config": Config,
    "start_listening": StartListening,
    "stop_listening": StopListening,
    "audio_chunk": AudioChunk,
    "text": Text,
    "ping": Ping,
}


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    return f"Invalid field '{where}': {first['msg']}"


def parse_client_message(text: str, limits: Limits = Limits()) -> ClientMessage:
    """Validate one text frame of ``/api/voice/ws`` into a typed message."""
    obj = load_object(text)
    model = MESSAGE_TYPES.get(obj["type"])
    if model is None:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown message type '{obj['type'][:64]}'")
    try:
        message = model.model_validate(obj)
    except ValidationError as exc:
        raise ProtocolError(BAD_MESSAGE, _describe(exc)) from None
    if isinstance(message, Text) and len(message.text) > limits.max_text_chars:
        raise ProtocolError(TOO_LARGE, f"'text' is over {limits.max_text_chars} characters")
    if isinstance(message, Config):
        size = len(json.dumps(message.context, ensure_ascii=False).encode())
        if size > limits.max_context_bytes:
            raise ProtocolError(TOO_LARGE, f"'context' is over {limits.max_context_bytes} bytes")
    return message  # type: ignore[return-value]


def parse_settings(raw: dict[str, Any]) -> SessionSettings:
    """Validate ``config.settings`` into the session's settings."""
    try:
        return VoiceSettings.model_validate(raw).to_session()
    except ValidationError as exc:
        raise ProtocolError(BAD_MESSAGE, _describe(exc).replace("'", "'settings.", 1)) from None


def decode_audio(chunk: AudioChunk, limits: Limits = Limits()) -> bytes:
    """The chunk's audio bytes; the size cap is checked before decoding."""
    # base64 carries 3 bytes in 4 characters: reject oversize chunks without decoding them.
    if len(chunk.data) > (limits.max_audio_chunk_bytes + 2) // 3 * 4:
        raise ProtocolError(TOO_LARGE, f"audio chunk is over {limits.max_audio_chunk_bytes} bytes")
    try:
        audio = base64.b64decode(chunk.data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(BAD_MESSAGE, "'data' is not valid base64") from None
    if not audio:
        raise ProtocolError(BAD_MESSAGE, "'data' is empty")
    return audio
