"""The binary streaming protocol of PROTOCOL.md section 3: control messages and 20 ms frames.

Pure Python, like the JSON wire's parse: bad input raises ``ProtocolError`` with the contract's
code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voice.audio.opus import opus_packet_ms
from voice.session.settings import SessionSettings
from voice.transports.codes import BAD_MESSAGE, UNKNOWN_TYPE
from voice.transports.protocol import ProtocolError, load_object

BAD_FRAME = "bad_frame"
NOT_STREAMING = "not_streaming"
CONTROL_TYPES = {"voice_start", "voice_end", "barge_in", "ping"}
PCM_RATES = (48000, 24000, 16000)
FRAME_MS = 20


@dataclass(frozen=True)
class StreamFormat:
    """What the client streams: ``codec`` is ``opus`` or ``pcm16``."""

    codec: str = "opus"
    sample_rate: int = 48000
    channels: int = 1

    @property
    def pcm_frame_bytes(self) -> int:
        return self.sample_rate // 50 * 2


@dataclass(frozen=True)
class Control:
    type: str
    data: Any
    metadata: dict[str, Any]


def parse_control(text: str) -> Control:
    """A text message: a JSON object with a string ``type`` of a known kind."""
    obj = load_object(text)
    if obj["type"] not in CONTROL_TYPES:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown message type '{obj['type'][:64]}'")
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ProtocolError(BAD_MESSAGE, "'metadata' must be an object")
    return Control(obj["type"], obj.get("data"), metadata)


def negotiate(metadata: dict[str, Any]) -> StreamFormat:
    """The format a ``voice_start`` asks for, validated."""
    codec = metadata.get("codec", "opus")
    rate = metadata.get("sampleRate", 48000)
    channels = metadata.get("channels", 1)
    if codec not in ("opus", "pcm16"):
        raise ProtocolError(BAD_MESSAGE, "metadata.codec must be 'opus' or 'pcm16'")
    if type(rate) is not int or rate not in PCM_RATES:
        raise ProtocolError(BAD_MESSAGE, "metadata.sampleRate must be 48000, 24000 or 16000")
    if codec == "opus" and rate != 48000:
        raise ProtocolError(BAD_MESSAGE, "Opus streams are 48000 Hz")
    if type(channels) is not int or channels != 1:  # true and 1.0 equal 1, but are no count
        raise ProtocolError(BAD_MESSAGE, "metadata.channels must be 1")
    return StreamFormat(codec, rate, 1)


def streaming_settings(
    fmt: StreamFormat, current: SessionSettings, *, implicit: bool
) -> SessionSettings:
    """The session's settings once streaming in ``fmt`` starts.

    Output stays PCM16 24 kHz on an implicit start; an explicit Opus start gets Opus.
    """
    output = "opus" if fmt.codec == "opus" and not implicit else "pcm16"
    return current.replace(
        audio_format=fmt.codec, sample_rate=fmt.sample_rate, output_format=output
    )


def frame_is_valid(frame: bytes, fmt: StreamFormat) -> bool:
    """Exactly one 20 ms frame in the negotiated format."""
    if fmt.codec == "pcm16":
        return len(frame) == fmt.pcm_frame_bytes
    return len(frame) > 1 and opus_packet_ms(frame) == FRAME_MS


def infer_format(first_frame: bytes) -> StreamFormat | None:
    """The implicit start: a frame size says PCM16 and its rate; anything else must be Opus."""
    for rate in PCM_RATES:
        if len(first_frame) == rate // 50 * 2:
            return StreamFormat("pcm16", rate)
    opus = StreamFormat("opus", 48000)
    return opus if frame_is_valid(first_frame, opus) else None
