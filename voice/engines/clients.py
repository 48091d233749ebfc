"""Every OpenAI SDK client of the server is built here, on the configured key and base URL."""

from __future__ import annotations

import asyncio
import weakref

import openai
from django.conf import settings
from openai import NOT_GIVEN, AsyncOpenAI, NotGiven

DEFAULT_BASE_URL = "https://api.openai.com/v1"

ClientOptions = tuple[str, str | None, int, float]

# One client per event loop and configuration: building one costs an SSL context (several ms
# of CPU on the loop every session would share), and its connection pool is worth keeping.
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientOptions, AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def async_client(
    *,
    api_key: str,
    base_url: str | None,
    max_retries: int,
    timeout: float | NotGiven = NOT_GIVEN,
) -> AsyncOpenAI:
    """A new async client; its owner closes it."""
    return AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)


def sync_client(
    *,
    api_key: str,
    base_url: str | None,
    max_retries: int,
    timeout: float | NotGiven = NOT_GIVEN,
) -> openai.OpenAI:
    """A new blocking client, for work done outside the event loop; its owner closes it."""
    return openai.OpenAI(
        api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
    )


def openai_client() -> AsyncOpenAI:
    """The process's shared async client on the configured key and base URL.

    Engines share it and do not close it; tests point ``OPENAI_BASE_URL`` at a fake.
    """
    options: ClientOptions = (
        settings.OPENAI_API_KEY or "missing-key",
        settings.OPENAI_BASE_URL,
        settings.OPENAI_MAX_RETRIES,
        settings.OPENAI_TIMEOUT,
    )
    per_loop = _shared.setdefault(asyncio.get_running_loop(), {})
    if options not in per_loop:
        api_key, base_url, max_retries, timeout = options
        per_loop[options] = async_client(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
    return per_loop[options]


def key_mint_client() -> openai.OpenAI:
    """A blocking client for minting ephemeral keys, with the SDK's own retries off.

    The caller's loop decides when to try again (``voice.upstream.backoff.RetryPolicy``).
    """
    return sync_client(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or DEFAULT_BASE_URL,
        max_retries=0,
    )
