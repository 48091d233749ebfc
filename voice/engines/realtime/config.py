"""GA Realtime wire details: the session built from a ``SessionConfig`` (for our own socket's
``session.update`` and for the ephemeral key of a browser's WebRTC call), client events, and
the tables that sort server events.

Shapes follow reference/openai-wire.md sections 2.1, 3 and 4 (GA only: nested ``audio``
config, ``session.type`` always present, no beta field names).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from voice.engines.base import ENGINE_SAMPLE_RATE, SessionConfig, TurnDetection
from voice.engines.voices import DEFAULT_VOICE, REALTIME_VOICES

logger = logging.getLogger(__name__)

DEFAULT_TRANSCRIBE_MODEL = "gpt-4o-mini-transcribe"
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
    session = realtime_session(
        config, transcribe_model=transcribe_model, include_voice=include_voice
    )
    return {"type": "session.update", "session": session}


def realtime_session(
    config: SessionConfig,
    *,
    transcribe_model: str,
    include_voice: bool = True,
    call_model: str | None = None,
) -> dict[str, Any]:
    """The GA ``session`` object for ``config`` (no transcription without ``transcribe_model``).

    With ``call_model`` it is the session of a browser's own WebRTC call: the model is named,
    WebRTC negotiates the codec, and the service's defaults stand for what our socket spells
    out (PCM formats, speed, audio-only output, tool choice, a VAD that answers and interrupts).
    """
    audio_input: dict[str, Any] = {}
    if transcribe_model:
        audio_input["transcription"] = {"model": transcribe_model}
        if config.language:
            audio_input["transcription"]["language"] = config.language
    output: dict[str, Any] = {}
    if include_voice:
        output["voice"] = realtime_voice(config.voice)
    session: dict[str, Any] = {
        "type": "realtime",
        "instructions": config.instructions,
        "audio": {"input": audio_input, "output": output},
        "tools": [tool.as_openai_function() for tool in config.tools],
    }
    if call_model is not None:
        audio_input["turn_detection"] = turn_detection(config.turn_detection, explicit=False)
        return {**session, "model": call_model}
    audio_input["format"] = dict(PCM_FORMAT)
    audio_input["turn_detection"] = turn_detection(config.turn_detection)
    output["format"] = dict(PCM_FORMAT)
    output["speed"] = min(max(config.speed, MIN_SPEED), MAX_SPEED)
    return {**session, "output_modalities": ["audio"], "tool_choice": "auto"}


def vad(settings: TurnDetection) -> dict[str, Any]:
    """Server VAD with ``settings``, as the session of a WebRTC call and its browser know it."""
    return {
        "type": "server_vad",
        "threshold": settings.threshold,
        "prefix_padding_ms": settings.prefix_padding_ms,
        "silence_duration_ms": settings.silence_duration_ms,
    }


def turn_detection(
    settings: TurnDetection | None, *, explicit: bool = True
) -> dict[str, Any] | None:
    """Server VAD that answers and interrupts by itself (``explicit``: says so); None is
    push-to-talk."""
    if settings is None:
        return None
    if not explicit:
        return vad(settings)
    return {**vad(settings), "create_response": True, "interrupt_response": True}


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
