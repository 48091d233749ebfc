"""Rate conversion to PCM16 mono with PyAV's resampler: the only resampler of the server."""

from __future__ import annotations

import av
import numpy as np

from voice.engines.base import ENGINE_SAMPLE_RATE


def pcm_frame(pcm: bytes, rate: int) -> av.AudioFrame:
    """PCM16 little-endian mono at ``rate`` as a PyAV frame."""
    samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = rate
    return frame


def frames_to_pcm(frames: list[av.AudioFrame]) -> bytes:
    """Packed s16 mono frames (what ``Resampler`` makes) as little-endian bytes."""
    return b"".join(frame.to_ndarray().tobytes() for frame in frames)


class Resampler:
    """Streaming conversion to PCM16 mono at ``rate``, keeping the filter state between calls.

    It takes decoded frames of any layout (``convert``) or PCM16 mono at ``source_rate``
    (``feed``); the output lags the input by a few samples of filter delay until ``flush``.
    """

    def __init__(self, source_rate: int | None = None, rate: int = ENGINE_SAMPLE_RATE) -> None:
        self.source_rate = source_rate
        self.rate = rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        self._odd = b""  # a trailing half sample waits for the next chunk

    def convert(self, frame: av.AudioFrame) -> bytes:
        """Resample one decoded frame."""
        return frames_to_pcm(self._resampler.resample(frame))

    def feed(self, pcm: bytes) -> bytes:
        """Resample one chunk of PCM16 mono at ``source_rate``."""
        if self.source_rate is None:
            raise ValueError("feeding PCM needs the resampler's source_rate")
        pcm = self._odd + pcm
        cut = len(pcm) - len(pcm) % 2
        pcm, self._odd = pcm[:cut], pcm[cut:]
        if not pcm:
            return b""
        return self.convert(pcm_frame(pcm, self.source_rate))

    def flush(self) -> bytes:
        """The samples still held by the filter; the resampler starts afresh afterwards."""
        tail = frames_to_pcm(self._resampler.resample(None))
        self.reset()
        return tail

    def reset(self) -> None:
        """Forget buffered samples (a new stream starts)."""
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.rate)
        self._odd = b""


def resample_pcm16(pcm: bytes, src_rate: int, dst_rate: int = ENGINE_SAMPLE_RATE) -> bytes:
    """Resample a whole PCM16 mono buffer."""
    if src_rate == dst_rate or not pcm:
        return pcm
    resampler = Resampler(src_rate, dst_rate)
    return resampler.feed(pcm) + resampler.flush()
