"""The turn clock: stage stamps on one monotonic clock, turned into a turn record."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone


def now_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class TurnClock:
    """One exchange. Stamps are monotonic milliseconds; ``wall`` anchors them to real time."""

    index: int
    input_kind: str
    started: float = field(default_factory=now_ms)
    wall: datetime = field(default_factory=timezone.now)
    speech_end: float | None = None
    transcript_final: float | None = None
    first_text: float | None = None
    first_audio_received: float | None = None
    first_audio_sent: float | None = None
    response_done: float | None = None
    barge_in: float | None = None
    user_text: str = ""
    assistant_text: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None

    def stamp(self, stage: str) -> None:
        """Record the first time a stage is reached."""
        if getattr(self, stage) is None:
            setattr(self, stage, now_ms())

    def _instant(self, stamp: float | None) -> datetime | None:
        if stamp is None:
            return None
        return self.wall + timedelta(milliseconds=stamp - self.started)

    @staticmethod
    def _span(start: float | None, end: float | None) -> int | None:
        if start is None or end is None or end < start:
            return None
        return round(end - start)

    def record(self, end_reason: str, error: str = "") -> dict[str, Any]:
        """The turn's row fields, durations per DESIGN.md's latency budget."""
        # A typed turn has no speech: its clock starts when the text arrived.
        heard = self.speech_end if self.speech_end is not None else self.transcript_final
        return {
            "speech_end_at": self._instant(self.speech_end),
            "transcript_final_at": self._instant(self.transcript_final),
            "first_text_at": self._instant(self.first_text),
            "first_audio_at": self._instant(self.first_audio_sent),
            "response_done_at": self._instant(self.response_done),
            "barge_in_at": self._instant(self.barge_in),
            "ended_at": timezone.now(),
            "end_reason": end_reason,
            "stt_ms": self._span(self.speech_end, self.transcript_final),
            "model_ms": self._span(self.transcript_final, self.first_text),
            "synthesis_ms": self._span(self.first_text, self.first_audio_received),
            "server_ms": self._span(self.first_audio_received, self.first_audio_sent),
            "voice_to_voice_ms": self._span(heard, self.first_audio_sent),
            "user_text": self.user_text,
            "assistant_text": self.assistant_text,
            "usage": self.usage,
            "error": error[:255],
        }
