"""The listening half of the local engine: input audio in, speech and transcript events out.

Blocking by design (resampling, VAD, decoding): the engine runs every call in a worker thread,
one at a time, so the recogniser never sees two threads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from voice.audio.resample import Resampler
from voice.engines.base import (
    ENGINE_SAMPLE_RATE,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TurnDetection,
)
from voice.engines.local.audio import RECOGNIZER_RATE
from voice.engines.local.stt import Recognizer
from voice.engines.local.vad import TurnDetector

logger = logging.getLogger(__name__)

PARTIAL_INTERVAL_MS = 300  # at most one partial transcript per this much audio


@dataclass(frozen=True)
class UtteranceEnd:
    """The user finished an utterance: ``explicit`` when by ``commit()`` rather than by VAD."""

    text: str
    explicit: bool


ListenerEvent = SpeechStarted | SpeechStopped | TranscriptDelta | UtteranceEnd


class Listener:
    """Resamples to 16 kHz, finds turns (when asked to) and decodes speech as it arrives."""

    def __init__(self, recognizer: Recognizer, turn_detection: TurnDetection | None) -> None:
        self.recognizer = recognizer
        self._resampler = Resampler(ENGINE_SAMPLE_RATE, RECOGNIZER_RATE)
        self._detector = TurnDetector(turn_detection) if turn_detection else None
        self._pending = b""  # 16 kHz audio short of a whole VAD frame
        self._since_partial_ms = 0
        self._last_partial = ""
        self._pending_sentences: list[str] | None = None

    def handle(self, batch: list[tuple[str, Any]]) -> list[ListenerEvent]:
        """Apply queued input in order: ("audio", pcm), ("commit", None), ("clear", None) or
        ("configure", (turn_detection, sentences))."""
        found: list[ListenerEvent] = []
        for kind, value in batch:
            if kind == "audio":
                found += self.feed(value)
            elif kind == "commit":
                found += self.commit()
            elif kind == "clear":
                self.clear()
            elif kind == "configure":
                self.set_turn_detection(value[0])
                self.configure(value[1])
        return found

    def set_turn_detection(self, turn_detection: TurnDetection | None) -> None:
        """Switch server VAD on, off, or to new settings (keeps the audio clock)."""
        position = self._detector.position_ms if self._detector else 0
        self._detector = TurnDetector(turn_detection) if turn_detection else None
        if self._detector:
            self._detector.position_ms = position

    def configure(self, sentences: list[str]) -> None:
        """New site phrases for the recogniser, applied once no utterance is in progress."""
        self._pending_sentences = sentences
        if not self.recognizer.in_utterance:
            self._apply_configuration()

    def _apply_configuration(self) -> None:
        if self._pending_sentences is not None:
            self.recognizer.configure(self._pending_sentences)
            self._pending_sentences = None

    def feed(self, pcm: bytes) -> list[ListenerEvent]:
        """Take user audio (PCM16 at the engine rate); returns what it revealed."""
        audio = self._pending + self._resampler.feed(pcm)
        if self._detector is None:
            self._pending = b""
            return self._decode(audio)
        events: list[ListenerEvent] = []
        size = self._detector.frame_bytes
        whole = len(audio) - len(audio) % size
        self._pending = audio[whole:]
        for offset in range(0, whole, size):
            events += self._frame(audio[offset : offset + size])
        return events

    def _frame(self, frame: bytes) -> list[ListenerEvent]:
        detector = self._detector
        assert detector is not None
        change = detector.push(frame)
        if change:
            logger.debug("speech %s at %d ms", change, detector.position_ms)
        if change == "start":
            start_ms, prefix = detector.take_prefix()
            self._begin()
            return [SpeechStarted(audio_start_ms=start_ms), *self._decode(prefix)]
        if change == "stop":
            return [SpeechStopped(audio_end_ms=detector.position_ms), self._end(explicit=False)]
        return self._decode(frame) if detector.speaking else []

    def _begin(self) -> None:
        self._apply_configuration()
        self.recognizer.start()
        self._since_partial_ms = 0
        self._last_partial = ""

    def _decode(self, audio: bytes) -> list[ListenerEvent]:
        if not audio:
            return []
        if not self.recognizer.in_utterance:
            self._begin()
        self.recognizer.feed(audio)
        self._since_partial_ms += len(audio) * 1000 // (2 * RECOGNIZER_RATE)
        if self._since_partial_ms < PARTIAL_INTERVAL_MS:
            return []
        self._since_partial_ms = 0
        text = self.recognizer.partial()
        if not text or text == self._last_partial:
            return []
        confidence = _stability(self._last_partial, text)
        self._last_partial = text
        return [TranscriptDelta(text=text, confidence=confidence)]

    def _end(self, explicit: bool) -> UtteranceEnd:
        text = self.recognizer.finish()
        self._apply_configuration()
        return UtteranceEnd(text=text, explicit=explicit)

    def commit(self) -> list[ListenerEvent]:
        """The client ended the utterance: finish decoding whatever was heard.

        With server VAD and no speech in progress the turn has already ended: nothing happens.
        """
        events: list[ListenerEvent] = []
        tail = self._resampler.flush() + self._pending
        self._pending = b""
        if self.recognizer.in_utterance:
            self.recognizer.feed(tail)
        elif self._detector:
            return events
        if self._detector and self._detector.speaking:
            self._detector.reset()
            events.append(SpeechStopped(audio_end_ms=self._detector.position_ms))
        events.append(self._end(explicit=True))
        return events

    def clear(self) -> None:
        """Drop buffered audio and any utterance in progress."""
        self.recognizer.abort()
        self._resampler.reset()
        self._pending = b""
        if self._detector:
            self._detector.reset()
        self._apply_configuration()


def _stability(previous: str, current: str) -> float:
    """Share of the words heard before that the new hypothesis kept: a partial's confidence."""
    before, now = previous.split(), current.split()
    if not before:
        return 0.5
    kept = sum(1 for a, b in zip(before, now, strict=False) if a == b)
    return round(kept / len(before), 2)
