"""Engine registry: ``create_engine(name)`` builds the engine that settings choose."""

from __future__ import annotations

from django.conf import settings

from voice.engines.base import Engine
from voice.engines.clients import openai_client


def create_engine(name: str | None = None) -> Engine:
    """The engine ``name`` (by default ``VOICE_ENGINE``), on the process's shared client."""
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
        from voice.engines.realtime.config import DEFAULT_TRANSCRIBE_MODEL
        from voice.engines.realtime.engine import OpenAIRealtimeEngine

        return OpenAIRealtimeEngine(
            openai_client(),
            model=settings.VOICE_REALTIME_MODEL,
            append_ms=settings.VOICE_REALTIME_APPEND_MS,
            transcribe_model=settings.VOICE_TRANSCRIBE_MODEL or DEFAULT_TRANSCRIBE_MODEL,
            owns_client=False,
        )
    if name == "local":
        from voice.engines.local.engine import LocalEngine

        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}")
