"""One wording for upstream failures in logs, turn records and client messages.

OpenAI's error messages can quote part of the API key ("Incorrect API key provided:
sk-abc12****wxyz"), so their text never leaves this module: a failure is told by its HTTP
status and its error code or type only, e.g. "upstream 401 invalid_api_key".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx2
import openai
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

# What the SDK and its transports raise when the AI service fails (a body cut while it is
# read comes straight from httpx).
UPSTREAM_ERRORS = (openai.OpenAIError, httpx2.HTTPError, WebSocketException)

# Codes and types are short identifiers; anything else may be prose and is left out.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")


def describe(exc: BaseException) -> str:
    """``exc`` as "upstream <status> <code>", or as its kind when there was no answer."""
    if isinstance(exc, openai.APIStatusError):
        return _words(exc.status_code, exc.code, exc.type)
    if isinstance(exc, openai.APITimeoutError):
        return "upstream timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "upstream unreachable"
    if isinstance(exc, openai.APIError):  # an error object inside a stream
        return _words(None, exc.code, exc.type)
    if isinstance(exc, InvalidStatus):  # the Realtime handshake was refused
        error = _error_object(exc.response.body)
        return _words(exc.response.status_code, error.get("code"), error.get("type"))
    if isinstance(exc, ConnectionClosed):
        return f"upstream close {exc.rcvd.code if exc.rcvd is not None else 1006}"
    return f"upstream {type(exc).__name__}"


def describe_error(error: Mapping[str, Any], status: int | None = None) -> str:
    """The same for an error object of the wire, e.g. the ``error`` of a Realtime event."""
    return _words(status, error.get("code"), error.get("type"))


def _words(status: int | None, code: object, type_: object) -> str:
    parts = ["upstream"]
    if status is not None:
        parts.append(str(status))
    kind = _identifier(code) or _identifier(type_)
    if kind:
        parts.append(kind)
    elif status is None:
        parts.append("error")
    return " ".join(parts)


def _identifier(value: object) -> str | None:
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return value
    return None


def _error_object(body: bytes | None) -> Mapping[str, Any]:
    """The ``error`` of a JSON error body, or nothing."""
    try:
        error = json.loads(body or b"").get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}
