"""Close codes (PROTOCOL.md section 6) and the codes of `error` messages, shared by every wire."""

from __future__ import annotations

from voice.session.events import Ending, ErrorKind

CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_LARGE = 4413
CLOSE_RATE_LIMITED = 4429
CLOSE_INTERNAL = 4500
CLOSE_UPSTREAM = 4502

BAD_MESSAGE = "bad_message"
UNKNOWN_TYPE = "unknown_type"
BAD_AUDIO = "bad_audio"
RATE_LIMITED = "rate_limited"
BUSY = "busy"
UPSTREAM = "upstream"
TOO_LARGE = "too_large"

CLOSE_CODES: dict[Ending, int] = {
    Ending.NORMAL: CLOSE_NORMAL,
    Ending.FLOODED: CLOSE_RATE_LIMITED,
    Ending.UPSTREAM: CLOSE_UPSTREAM,
    Ending.INTERNAL: CLOSE_INTERNAL,
    Ending.REVOKED: CLOSE_UNAUTHORIZED,
}

ERROR_CODES: dict[ErrorKind, str] = {
    ErrorKind.BUSY: BUSY,
    ErrorKind.BAD_AUDIO: BAD_AUDIO,
    ErrorKind.RATE_LIMITED: RATE_LIMITED,
    ErrorKind.UPSTREAM: UPSTREAM,
}
