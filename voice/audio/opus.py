"""Opus packet durations from the TOC byte (RFC 6716 section 3.1), without decoding."""

from __future__ import annotations

# Frame duration in ms of each Opus configuration, by mode.
_SILK_MS = (10.0, 20.0, 40.0, 60.0)
_HYBRID_MS = (10.0, 20.0)
_CELT_MS = (2.5, 5.0, 10.0, 20.0)


def opus_packet_ms(packet: bytes) -> float | None:
    """The duration an Opus packet's TOC byte announces, or None if it is malformed."""
    if not packet:
        return None
    toc = packet[0]
    config, code = toc >> 3, toc & 0x03
    if config < 12:
        frame_ms = _SILK_MS[config % 4]
    elif config < 16:
        frame_ms = _HYBRID_MS[config % 2]
    else:
        frame_ms = _CELT_MS[config % 4]
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        if len(packet) < 2:
            return None
        frames = packet[1] & 0x3F  # code 3: the frame count is in the next byte
        if frames == 0:
            return None
    return frame_ms * frames
