"""Minting ephemeral Realtime keys (GA ``POST /v1/realtime/client_secrets``) for the browser.

One call per attempt through the sync SDK with its own retries off (``max_retries=0``): our loop
decides when to try again (``backoff.RetryPolicy``) and a shared ``CircuitBreaker`` stops all
processes from hammering an upstream that keeps failing. The secret is returned to the caller
and never stored or logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, cast

import openai
from django.conf import settings
from openai.types.realtime import RealtimeSessionCreateRequestParam
from openai.types.realtime.client_secret_create_params import ExpiresAfter

from voice.engines.base import SessionConfig, TurnDetection
from voice.engines.clients import DEFAULT_BASE_URL, key_mint_client
from voice.engines.realtime import config as wire
from voice.session.site_tools import SITE_TOOLS
from voice.upstream.backoff import RetryPolicy, retry_after_from, should_retry_from
from voice.upstream.circuit import Admission, CircuitBreaker
from voice.upstream.errors import describe

logger = logging.getLogger(__name__)

# PROTOCOL.md section 5: the VAD settings a WebRTC client is told and the key is bound to.
TURN_DETECTION: dict[str, Any] = wire.vad(TurnDetection())
# What the SDK retries: timeouts, lock conflicts, rate limits and server errors.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# 503 Retry-After when upstream failed without saying when to come back.
DEFAULT_RETRY_AFTER = 5.0


class KeyMintError(Exception):
    """Minting failed; ``status`` and ``code`` say how to answer the client."""

    status = 502
    code = "upstream_error"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ServerKeyMissingError(KeyMintError):
    code = "server_key_missing"


class ServerKeyRejectedError(KeyMintError):
    code = "server_key_rejected"


class UpstreamRejectedError(KeyMintError):
    code = "upstream_rejected"


class UpstreamUnavailableError(KeyMintError):
    status = 503
    code = "upstream_unavailable"


@dataclass(frozen=True)
class EphemeralKey:
    """A minted secret and the session it is bound to."""

    value: str
    expires_at: int  # Unix seconds
    model: str
    voice: str
    instructions: str


def rtc_url() -> str:
    """Where the browser posts its SDP offer with the ephemeral key."""
    return f"{(settings.OPENAI_BASE_URL or DEFAULT_BASE_URL).rstrip('/')}/realtime/calls"


def session_config(model: str, voice: str, instructions: str) -> dict[str, Any]:
    """The GA realtime session the key is bound to, with the site's tools."""
    config = SessionConfig(
        session_id="",
        instructions=instructions,
        voice=voice,
        tools=SITE_TOOLS,
        turn_detection=TurnDetection(),
    )
    # Without a transcription model the browser's chat history would lack the user's words.
    return wire.realtime_session(
        config, transcribe_model=settings.VOICE_TRANSCRIBE_MODEL, call_model=model
    )


def key_mint_breaker() -> CircuitBreaker:
    """The circuit around the client-secrets endpoint, shared by all processes."""
    return CircuitBreaker(
        "openai-client-secrets",
        settings.VOICE_CIRCUIT_FAILURES,
        settings.VOICE_CIRCUIT_COOLDOWN_SECONDS,
        probe_timeout=settings.VOICE_KEY_MINT_TIME_BUDGET + settings.OPENAI_TIMEOUT,
    )


def mint_key(
    model: str,
    voice: str,
    instructions: str,
    *,
    policy: RetryPolicy | None = None,
    breaker: CircuitBreaker | None = None,
) -> EphemeralKey:
    """Ask upstream for an ephemeral key, retrying what can be retried; raises ``KeyMintError``."""
    if not settings.OPENAI_API_KEY:
        raise ServerKeyMissingError("the server has no OpenAI API key configured (OPENAI_API_KEY)")
    policy = policy or RetryPolicy.from_settings()
    breaker = breaker or key_mint_breaker()
    deadline = policy.clock() + policy.time_budget
    expires_after: ExpiresAfter = {
        "anchor": "created_at",
        "seconds": settings.VOICE_EPHEMERAL_KEY_SECONDS,
    }
    # Built as plain JSON by the one session builder; the SDK sends it as it is.
    session = cast(RealtimeSessionCreateRequestParam, session_config(model, voice, instructions))
    with key_mint_client() as client:
        retry_after: float | None = None
        for attempt in range(1, policy.max_attempts + 1):
            admission = breaker.admit()
            if not admission.allowed:
                logger.warning("key mint refused: circuit %s is open", breaker.name)
                raise UpstreamUnavailableError(
                    "the AI service is failing; not trying again yet", admission.retry_after
                )
            timeout = min(settings.OPENAI_TIMEOUT, deadline - policy.clock())
            if timeout <= 0:
                breaker.release(admission)
                break
            try:
                secret = client.realtime.client_secrets.create(
                    expires_after=expires_after, session=session, timeout=timeout
                )
            except openai.APIStatusError as exc:
                retry_after = _on_status_error(exc, breaker, admission)
            except openai.APIConnectionError as exc:  # includes timeouts
                breaker.record_failure(admission)
                logger.warning("key mint attempt %d: %s", attempt, describe(exc))
                retry_after = None
            else:
                breaker.record_success(admission)
                return _ephemeral_key(secret, model, voice, instructions)
            if attempt == policy.max_attempts:
                break
            wait = policy.delay(attempt, retry_after)
            if policy.clock() + wait > deadline:
                logger.warning("key mint: next wait %.2f s would pass the time budget", wait)
                break
            policy.sleep(wait)
    raise UpstreamUnavailableError(
        "the AI service is busy or unavailable; try again later",
        retry_after if retry_after is not None else DEFAULT_RETRY_AFTER,
    )


def _on_status_error(
    exc: openai.APIStatusError, breaker: CircuitBreaker, admission: Admission
) -> float | None:
    """Map one failed attempt: raise what cannot be retried, else return the server's hint."""
    status = exc.status_code
    logger.warning("key mint attempt failed: %s (request %s)", describe(exc), exc.request_id)
    if status in (401, 403):
        breaker.release(admission)
        raise ServerKeyRejectedError("the server's OpenAI API key was rejected") from None
    retryable = status in RETRYABLE_STATUSES or status >= 500
    if not retryable:
        breaker.release(admission)
        raise UpstreamRejectedError(
            f"the AI service refused the session request ({status})"
        ) from None
    breaker.record_failure(admission)
    hint = retry_after_from(exc.response.headers)
    if exc.code == "insufficient_quota" or should_retry_from(exc.response.headers) is False:
        raise UpstreamUnavailableError(
            "the server's OpenAI account cannot take more requests now",
            hint if hint is not None else DEFAULT_RETRY_AFTER,
        ) from None
    return hint


def _ephemeral_key(secret: Any, model: str, voice: str, instructions: str) -> EphemeralKey:
    value = getattr(secret, "value", None)
    expires_at = getattr(secret, "expires_at", None)
    if not isinstance(value, str) or not value or not isinstance(expires_at, int | float):
        raise UpstreamRejectedError("the AI service answered without a usable client secret")
    return EphemeralKey(value, math.floor(expires_at), model, voice, instructions)
