"""Turn detection with WebRTC's voice activity detector (``webrtcvad-wheels``).

Speech starts when most frames of a short window are voiced, and stops after
``silence_duration_ms`` without a voiced frame. The audio just before the start
(``prefix_padding_ms``) is kept so the recogniser hears the first syllable whole.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np
import webrtcvad

from voice.engines.base import TurnDetection

logger = logging.getLogger(__name__)

FRAME_MS = 20  # webrtcvad accepts 10, 20 or 30 ms frames
START_WINDOW = 5  # frames looked at to decide that speech started (100 ms)
START_VOICED = 3  # voiced frames needed in that window
MIN_RMS = 100.0  # about -50 dBFS: quieter frames never count as speech (hiss, hum)


def vad_mode(threshold: float) -> int:
    """webrtcvad aggressiveness 0-3 from the protocol's 0-1 threshold (0.5 -> 2)."""
    return max(0, min(3, int(threshold * 4)))


class TurnDetector:
    """Runs 16 kHz PCM16 frames of ``FRAME_MS`` through webrtcvad; says when speech starts/ends."""

    def __init__(self, settings: TurnDetection, sample_rate: int = 16000) -> None:
        self.settings = settings
        self.sample_rate = sample_rate
        self.frame_bytes = sample_rate * FRAME_MS // 1000 * 2
        self._vad = webrtcvad.Vad(vad_mode(settings.threshold))
        logger.debug("webrtcvad mode %d", vad_mode(settings.threshold))
        padding_frames = settings.prefix_padding_ms // FRAME_MS
        self._ring: deque[bytes] = deque(maxlen=padding_frames + START_WINDOW)
        self._recent: deque[bool] = deque(maxlen=START_WINDOW)
        self.speaking = False
        self.position_ms = 0  # audio seen so far, the clock of audio_start_ms/audio_end_ms
        self._silent_ms = 0

    def is_voiced(self, frame: bytes) -> bool:
        """webrtcvad's verdict on one frame, with a loudness floor."""
        samples = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
        if float(np.sqrt(np.mean(samples * samples))) < MIN_RMS:
            return False
        return bool(self._vad.is_speech(frame, self.sample_rate))

    def push(self, frame: bytes) -> str | None:
        """Take one frame; returns "start", "stop" or None."""
        voiced = self.is_voiced(frame)
        self.position_ms += FRAME_MS
        if not self.speaking:
            self._ring.append(frame)
            self._recent.append(voiced)
            if sum(self._recent) >= START_VOICED:
                self.speaking, self._silent_ms = True, 0
                return "start"
            return None
        self._silent_ms = 0 if voiced else self._silent_ms + FRAME_MS
        if self._silent_ms >= self.settings.silence_duration_ms:
            self.speaking = False
            self._recent.clear()
            return "stop"
        return None

    def take_prefix(self) -> tuple[int, bytes]:
        """At a start: where the kept audio begins (ms) and the audio itself."""
        audio = b"".join(self._ring)
        start_ms = self.position_ms - len(self._ring) * FRAME_MS
        self._ring.clear()
        return start_ms, audio

    def reset(self) -> None:
        """Forget the current speech state (the input buffer was cleared)."""
        self._ring.clear()
        self._recent.clear()
        self.speaking = False
        self._silent_ms = 0
