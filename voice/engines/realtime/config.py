"""GA Realtime wire details: client events built from a ``SessionConfig`` (session.update,
history items) and the tables that sort server events.

Shapes follow reference/openai-wire.md sections 2.1, 3 and 4 (GA only: nested ``audio``
config, ``session.type`` always present, no beta field names).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from voice.engines.base import ENGINE_SAMPLE_RATE, SessionConfig, TurnDetection

logger = logging.getLogger(__name__)

DEFAULT_TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"
DEFAULT_VOICE = "alloy"
# The Realtime voices; the TTS-only ones (fable, onyx, nova) would reject the whole update.
REALTIME_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
# Realtime accepts 0.25..1.5 (TTS goes to 4.0); out of range rejects the whole update.
MIN_SPEED, MAX_SPEED = 0.25, 1.5
PCM_FORMAT = {"type": "audio/pcm", "rate": ENGINE_SAMPLE_RATE}

# Some integrators still see beta names from live models; accept them as their GA twins.
BETA_NAMES = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "conversation.item.created": "conversation.item.added",
}
# Known events that need no action here.
IGNORED_TYPES = frozenset(
    """
    session.created session.updated conversation.created rate_limits.updated
    conversation.item.added conversation.item.done conversation.item.retrieved
    conversation.item.truncated conversation.item.deleted
    conversation.item.input_audio_transcription.segment
    input_audio_buffer.cleared input_audio_buffer.timeout_triggered
    response.output_item.added response.output_item.done response.content_part.added
    response.content_part.done response.output_audio.done
    response.function_call_arguments.delta
    output_audio_buffer.started output_audio_buffer.stopped output_audio_buffer.cleared
    """.split()
)
SWALLOWED_ERRORS = frozenset({"response_cancel_not_active"})  # expected barge-in races
# Errors the service sends right before closing; the close then reports them.
CLOSING_ERRORS = frozenset({"beta_api_shape_disabled", "invalid_api_key"})
STATUSES = {"completed": "completed", "incomplete": "completed", "cancelled": "cancelled"}


def session_update(
    config: SessionConfig, *, transcribe_model: str, include_voice: bool = True
) -> dict[str, Any]:
    """A full ``session.update``; ``include_voice=False`` once assistant audio went out."""
    transcription: dict[str, Any] = {"model": transcribe_model}
    if config.language:
        transcription["language"] = config.language
    output: dict[str, Any] = {"format": dict(PCM_FORMAT)}
    if include_voice:
        output["voice"] = realtime_voice(config.voice)
    output["speed"] = min(max(config.speed, MIN_SPEED), MAX_SPEED)
    session = {
        "type": "realtime",
        "instructions": config.instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": dict(PCM_FORMAT),
                "transcription": transcription,
                "turn_detection": turn_detection(config.turn_detection),
            },
            "output": output,
        },
        "tools": [tool.as_openai_function() for tool in config.tools],
        "tool_choice": "auto",
    }
    return {"type": "session.update", "session": session}


def turn_detection(settings: TurnDetection | None) -> dict[str, Any] | None:
    """Server VAD that answers and interrupts by itself; None is push-to-talk."""
    if settings is None:
        return None
    return {
        "type": "server_vad",
        "threshold": settings.threshold,
        "prefix_padding_ms": settings.prefix_padding_ms,
        "silence_duration_ms": settings.silence_duration_ms,
        "create_response": True,
        "interrupt_response": True,
    }


def realtime_voice(voice: str) -> str:
    if voice in REALTIME_VOICES:
        return voice
    logger.warning("voice %r is not a Realtime voice; using %s", voice, DEFAULT_VOICE)
    return DEFAULT_VOICE


def message_item(role: str, text: str) -> dict[str, Any]:
    """A ``conversation.item.create`` of a text message (assistant audio cannot be injected)."""
    if role == "assistant":
        content = [{"type": "output_text", "text": text}]
    else:
        role = role if role == "system" else "user"
        content = [{"type": "input_text", "text": text}]
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": role, "content": content},
    }


def history_items(history: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The conversation so far as items to re-create on a fresh upstream session."""
    return [message_item(role, text) for role, text in history if text.strip()]


def tool_output_item(call_id: str, output: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output},
    }
