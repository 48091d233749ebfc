"""Engine registry: ``create_engine(name)`` builds the engine that settings choose."""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings
from openai import AsyncOpenAI

from voice.engines.base import Engine

# One client per event loop and configuration: building one costs an SSL context (several ms
# of CPU on the loop every session would share), and its connection pool is worth keeping.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def openai_client() -> AsyncOpenAI:
    """The process's SDK client on the configured key and base URL (tests point it at a fake)."""
    options = (
        settings.OPENAI_API_KEY or "missing-key",
        settings.OPENAI_BASE_URL,
        settings.OPENAI_MAX_RETRIES,
        settings.OPENAI_TIMEOUT,
    )
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    if options not in per_loop:
        api_key, base_url, max_retries, timeout = options
        per_loop[options] = AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
    return per_loop[options]


def create_engine(name: str | None = None) -> Engine:
    name = name or settings.VOICE_ENGINE
    if name == "openai-pipeline":
        from voice.engines.pipeline.engine import OpenAIPipelineEngine

        return OpenAIPipelineEngine(
            openai_client(),
            transcribe_model=settings.VOICE_TRANSCRIBE_MODEL,
            chat_model=settings.VOICE_CHAT_MODEL,
            tts_model=settings.VOICE_TTS_MODEL,
            owns_client=False,
        )
    if name == "openai-realtime":
        from voice.engines.realtime.engine import OpenAIRealtimeEngine

        return OpenAIRealtimeEngine(
            openai_client(),
            model=settings.VOICE_REALTIME_MODEL,
            append_ms=settings.VOICE_REALTIME_APPEND_MS,
            owns_client=False,
        )
    if name == "local":
        from voice.engines.local.engine import LocalEngine

        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}")
