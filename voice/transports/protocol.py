"""What both wires share: the error a bad message raises, and JSON text frames in and out.

Pure Python: nothing here imports Django or Channels.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from voice.transports.codes import BAD_MESSAGE

# What a lone surrogate can come from: the character itself, or its JSON escape. A hit is only
# a hint (an escaped backslash before "ud800" matches too); the parsed strings decide.
_MAYBE_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class ProtocolError(Exception):
    """A client message the contract rejects; ``code`` is the `error` code to answer with."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e400: no JSON encoder could write it back
        raise ValueError("number out of range")
    return number


def _not_json(literal: str) -> None:
    raise ValueError(f"{literal} is not JSON")  # Python reads NaN and Infinity; JSON has none


def load_object(text: str) -> dict[str, Any]:
    """Parse a text frame into a JSON object with a string ``type``."""
    try:
        obj = json.loads(text, parse_float=_finite, parse_constant=_not_json)
    except (ValueError, RecursionError):  # ValueError: also an integer of over 4,300 digits
        raise ProtocolError(BAD_MESSAGE, "Message is not valid JSON") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError(BAD_MESSAGE, "Message must be a JSON object with a string 'type'")
    if _MAYBE_SURROGATE.search(text) and _holds_surrogate(obj):
        # Valid JSON, but no UTF-8 encoder (ours, the database's, the logs', upstream's) can
        # write it: refused here so that no part of the message goes any further.
        raise ProtocolError(BAD_MESSAGE, "Message holds a lone surrogate (not valid Unicode)")
    return obj


def _holds_surrogate(obj: Any) -> bool:
    """Whether any string or key in a parsed JSON value holds a lone surrogate."""
    stack = [obj]  # not recursive: json.loads accepts nesting deeper than Python's stack
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def dump(message: dict[str, Any]) -> str:
    """Compact JSON for a server message."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
