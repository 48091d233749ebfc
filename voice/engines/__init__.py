"""Engine registry: ``create_engine(name)`` builds the engine that settings choose."""

from __future__ import annotations

from django.conf import settings
from openai import AsyncOpenAI

from voice.engines.base import Engine


def openai_client() -> AsyncOpenAI:
    """An SDK client on the configured key and base URL (tests point it at a local fake)."""
    return AsyncOpenAI(
        api_key=settings.OPENAI_API_KEY or "missing-key",
        base_url=settings.OPENAI_BASE_URL,
        max_retries=settings.OPENAI_MAX_RETRIES,
        timeout=settings.OPENAI_TIMEOUT,
    )


def create_engine(name: str | None = None) -> Engine:
    name = name or settings.VOICE_ENGINE
    if name == "openai-pipeline":
        from voice.engines.openai_pipeline import OpenAIPipelineEngine

        return OpenAIPipelineEngine(
            openai_client(),
            transcribe_model=settings.VOICE_TRANSCRIBE_MODEL,
            chat_model=settings.VOICE_CHAT_MODEL,
            tts_model=settings.VOICE_TTS_MODEL,
        )
    if name == "openai-realtime":
        from voice.engines.openai_realtime import OpenAIRealtimeEngine

        return OpenAIRealtimeEngine(openai_client(), model=settings.VOICE_REALTIME_MODEL)
    if name == "local":
        from voice.engines.local_engine import LocalEngine

        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}")
