"""The voice settings of one session, in the session's own terms (no wire names)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voice.engines.voices import DEFAULT_VOICE


@dataclass(frozen=True)
class SessionSettings:
    """What the client chose: its input audio, the output format, the voice and language.

    Each wire parses its own message form into this; ``replace`` makes an updated copy.
    """

    language: str | None = None  # a BCP-47 tag
    voice_id: str = DEFAULT_VOICE
    rate: float = 1.0  # speech speed, 1.0 is normal
    audio_format: str = "webm"  # webm, pcm16 or opus
    sample_rate: int = 24000  # of pcm16 input, in Hz
    output_format: str = "mp3"  # mp3, pcm16 or opus
    # Settings this server does not use, kept as the client named them for the session's record.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> SessionSettings:
        return dataclasses.replace(self, **changes)

    @property
    def language_code(self) -> str | None:
        """The primary subtag of the BCP-47 tag (``en-US`` -> ``en``)."""
        if not self.language:
            return None
        return self.language.split("-")[0].lower() or None

    def record(self) -> dict[str, Any]:
        """The settings as stored on the session row."""
        return dataclasses.asdict(self)
