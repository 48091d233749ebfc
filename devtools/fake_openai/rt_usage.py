"""What a Realtime response reports about cost: its token usage and the rate-limit update."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from .rt_conversation import ItemAudio
from .script import count_tokens

TOKEN_LIMIT = 40_000  # what rate_limits.updated reports as the per-minute token budget


def input_tokens(
    items: Iterable[dict[str, Any]], audio: Mapping[str, ItemAudio]
) -> tuple[int, int]:
    """(text, audio) tokens of the items the model saw; ~10 audio tokens per second of speech."""
    items = list(items)
    text = sum(
        count_tokens(json.dumps(item.get("content", item.get("output", "")))) for item in items
    )
    audio_ms = sum(
        audio[i["id"]].ms for i in items if i.get("role") == "user" and i.get("id") in audio
    )
    return text, math.ceil(audio_ms / 100)


def output_audio_tokens(audio_ms: float) -> int:
    """~20 output audio tokens per second of speech."""
    return math.ceil(audio_ms / 50)


def usage(text_in: int, audio_in: int, text_out: int, audio_out: int) -> dict[str, Any]:
    """The `usage` object of a `realtime.response`."""
    return {
        "total_tokens": text_in + audio_in + text_out + audio_out,
        "input_tokens": text_in + audio_in,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


def rate_limits_updated(tokens_used: int) -> dict[str, Any]:
    """The `rate_limits.updated` event that follows every `response.done`."""
    return {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "requests", "limit": 10_000, "remaining": 9_999, "reset_seconds": 0.006},
            {
                "name": "tokens",
                "limit": TOKEN_LIMIT,
                "remaining": max(0, TOKEN_LIMIT - tokens_used),
                "reset_seconds": 0.5,
            },
        ],
    }
