"""PCM16 mono helpers for the local engine: its recogniser's rate, and silence."""

from __future__ import annotations

from voice.engines.base import ENGINE_SAMPLE_RATE

RECOGNIZER_RATE = 16000  # pocketsphinx's acoustic model and webrtcvad both use 16 kHz


def silence(ms: int, rate: int = ENGINE_SAMPLE_RATE) -> bytes:
    """Digital silence of ``ms`` milliseconds."""
    return b"\x00\x00" * (rate * ms // 1000)
