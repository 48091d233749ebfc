"""PCM16 mono helpers for the local engine: rate conversion with PyAV's resampler."""

from __future__ import annotations

import av
import numpy as np

from voice.engines.base import BYTES_PER_MS, ENGINE_SAMPLE_RATE

RECOGNIZER_RATE = 16000  # pocketsphinx's acoustic model and webrtcvad both use 16 kHz


class StreamResampler:
    """Converts PCM16 mono between rates chunk by chunk, keeping the filter state between them."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=dst_rate)
        self._odd = b""  # a trailing half sample waits for the next chunk

    def feed(self, pcm: bytes) -> bytes:
        """Resample one chunk; the output lags the input by a few samples of filter delay."""
        pcm = self._odd + pcm
        cut = len(pcm) - len(pcm) % 2
        pcm, self._odd = pcm[:cut], pcm[cut:]
        if not pcm:
            return b""
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.src_rate
        return _join(self._resampler.resample(frame))

    def flush(self) -> bytes:
        """The samples still held by the filter; the resampler starts afresh afterwards."""
        tail = _join(self._resampler.resample(None))
        self.reset()
        return tail

    def reset(self) -> None:
        """Forget buffered samples (a new stream starts)."""
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.dst_rate)
        self._odd = b""


def _join(frames: list[av.AudioFrame]) -> bytes:
    return b"".join(frame.to_ndarray().tobytes() for frame in frames)


def resample_pcm16(pcm: bytes, src_rate: int, dst_rate: int = ENGINE_SAMPLE_RATE) -> bytes:
    """Resample a whole PCM16 mono buffer."""
    if src_rate == dst_rate or not pcm:
        return pcm
    resampler = StreamResampler(src_rate, dst_rate)
    return resampler.feed(pcm) + resampler.flush()


def duration_ms(pcm: bytes, rate: int = ENGINE_SAMPLE_RATE) -> int:
    """Length of PCM16 mono audio in milliseconds."""
    if rate == ENGINE_SAMPLE_RATE:
        return len(pcm) // BYTES_PER_MS
    return len(pcm) * 1000 // (2 * rate)


def silence(ms: int, rate: int = ENGINE_SAMPLE_RATE) -> bytes:
    """Digital silence of ``ms`` milliseconds."""
    return b"\x00\x00" * (rate * ms // 1000)
