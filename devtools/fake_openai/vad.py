"""Energy-based server VAD: speech is a run of loud 10 ms windows, turn end is enough quiet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .audio import to_samples

WINDOW_MS = 10
MIN_SPEECH_MS = 20  # a shorter loud blip (a click) does not start a turn
# semantic_vad has no silence knob; eagerness picks how long a pause ends the turn.
EAGERNESS_SILENCE_MS = {"high": 200, "auto": 500, "medium": 500, "low": 1000}


def energy_threshold(threshold: float) -> float:
    """RMS (16-bit units) above which a window is speech.

    `threshold` 0..1 maps linearly in decibels onto -60..-20 dBFS, so the default 0.5 is
    -40 dBFS (RMS ~328). A 440 Hz tone at amplitude 8000 (RMS 5657, -15 dBFS) is speech at
    any threshold; digital silence and noise below -60 dBFS never are.
    """
    return 32768 * 10 ** ((-60 + 40 * threshold) / 20)


@dataclass
class VadEvent:
    kind: Literal["start", "stop"]
    position: int  # absolute input byte offset where the deciding window ends
    onset: int = 0  # start only: first byte of the loud run


class EnergyVad:
    """Feeds on appended audio; positions are absolute byte offsets in the session's input."""

    def __init__(
        self, threshold: float, silence_ms: int, bytes_per_ms: int, format_type: str, position: int
    ) -> None:
        self.rms_threshold = energy_threshold(threshold)
        self.silence_ms = silence_ms
        self.window = bytes_per_ms * WINDOW_MS
        self.format_type = format_type
        self.position = position  # offset of the first byte not yet judged
        self.carry = b""
        self.reset()

    def reset(self) -> None:
        """Forget any turn in progress (after a manual commit or clear)."""
        self.speaking = False
        self.voiced_ms = 0
        self.silent_ms = 0
        self.onset = 0

    def feed(self, data: bytes) -> list[VadEvent]:
        """Judge every complete window; return the turn edges found, in order."""
        buf = self.carry + data
        count = len(buf) // self.window
        self.carry = buf[count * self.window :]
        if not count:
            return []
        samples = to_samples(buf[: count * self.window], self.format_type).astype(np.float64)
        energies = np.sqrt(np.mean(samples.reshape(count, -1) ** 2, axis=1))
        events = []
        for loud in energies >= self.rms_threshold:
            start = self.position
            self.position += self.window
            event = self._step(bool(loud), start)
            if event:
                events.append(event)
        return events

    def _step(self, loud: bool, start: int) -> VadEvent | None:
        if not self.speaking:
            if not loud:
                self.voiced_ms = 0
                return None
            if self.voiced_ms == 0:
                self.onset = start
            self.voiced_ms += WINDOW_MS
            if self.voiced_ms < MIN_SPEECH_MS:
                return None
            self.speaking, self.silent_ms = True, 0
            return VadEvent("start", self.position, self.onset)
        self.silent_ms = 0 if loud else self.silent_ms + WINDOW_MS
        if self.silent_ms < self.silence_ms:
            return None
        self.reset()
        return VadEvent("stop", self.position)
