"""OpenAI-shaped error bodies and the headers the real service puts on responses."""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

KEYS_PAGE = "https://platform.openai.com/account/api-keys"
# status -> (type, code, message) used when a scripted failure does not say otherwise.
DEFAULT_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", "invalid_value", "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        f"Incorrect API key provided. You can find your API key at {KEYS_PAGE}.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("invalid_request_error", None, "Request timed out."),
    409: ("invalid_request_error", None, "Conflict."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
INSUFFICIENT_QUOTA = (
    "insufficient_quota",
    "insufficient_quota",
    "You exceeded your current quota, please check your plan and billing details.",
)


def error_object(
    message: str,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    return {"message": message, "type": type_, "param": param, "code": code}


def json_error(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An HTTP error response with the `{"error": {...}}` body every REST endpoint uses."""
    body = {"error": error_object(message, type_, code, param)}
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def default_error(status: int, code: str | None = None) -> tuple[str, str | None, str]:
    """(type, code, message) for a status; code "insufficient_quota" selects the quota 429."""
    if code == "insufficient_quota":
        return INSUFFICIENT_QUOTA
    type_, default_code, message = DEFAULT_ERRORS.get(status, ("api_error", None, "Error."))
    return type_, code or default_code, message


def invalid_key_message(key: str) -> str:
    """The service's 401 wording, which quotes the key: its first 8 and last 4 characters."""
    # Short strings ("undefined") are quoted whole, as the service does.
    shown = key[:8] + "*" * (len(key) - 12) + key[-4:] if len(key) > 12 else key
    return f"Incorrect API key provided: {shown}. You can find your API key at {KEYS_PAGE}."


def request_id() -> str:
    return "req_" + secrets.token_hex(16)


def rate_limit_headers(
    remaining_requests: int = 9999, remaining_tokens: int = 199_000
) -> dict[str, str]:
    """The x-ratelimit-* family, present on normal and 429 responses alike."""
    return {
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-limit-tokens": "200000",
        "x-ratelimit-remaining-requests": str(remaining_requests),
        "x-ratelimit-remaining-tokens": str(remaining_tokens),
        "x-ratelimit-reset-requests": "6ms" if remaining_requests else "1s",
        "x-ratelimit-reset-tokens": "300ms" if remaining_tokens else "6m0s",
    }
