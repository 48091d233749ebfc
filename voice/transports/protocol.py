"""What both wires share: the error a bad message raises, and JSON text frames in and out.

Pure Python: nothing here imports Django or Channels.
"""

from __future__ import annotations

import json
from typing import Any

from voice.transports.codes import BAD_MESSAGE


class ProtocolError(Exception):
    """A client message the contract rejects; ``code`` is the `error` code to answer with."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def load_object(text: str) -> dict[str, Any]:
    """Parse a text frame into a JSON object with a string ``type``."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError(BAD_MESSAGE, "Message is not valid JSON") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError(BAD_MESSAGE, "Message must be a JSON object with a string 'type'")
    return obj


def dump(message: dict[str, Any]) -> str:
    """Compact JSON for a server message."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
