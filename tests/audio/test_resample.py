"""The one resampler: decoded frames or PCM16 chunks in, PCM16 mono at the engine rate out."""

from __future__ import annotations

import av
import numpy as np
import pytest

from voice.audio.resample import Resampler, pcm_frame, resample_pcm16


def tone(ms: int, rate: int) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def test_a_stereo_48k_frame_becomes_mono_at_24k() -> None:
    samples = np.zeros((1, 2 * 960), dtype=np.int16)  # 20 ms, interleaved stereo
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="stereo")
    frame.sample_rate = 48000
    resampler = Resampler()

    pcm = resampler.convert(frame) + resampler.flush()

    assert len(pcm) == 480 * 2  # 20 ms of mono PCM16 at 24 kHz


def test_chunks_fed_one_by_one_add_up_to_the_whole_buffer() -> None:
    pcm = tone(500, 16000)
    resampler = Resampler(16000)

    pieces = b"".join(resampler.feed(pcm[i : i + 321]) for i in range(0, len(pcm), 321))
    pieces += resampler.flush()

    whole = resample_pcm16(pcm, 16000)
    assert abs(len(pieces) - len(whole)) <= 4
    assert abs(len(whole) - 500 * 48) <= 4  # 500 ms at 24 kHz


def test_a_half_sample_waits_for_the_next_chunk() -> None:
    resampler = Resampler(24000, 24000)

    assert resampler.feed(b"\x01") == b""
    assert len(resampler.feed(b"\x00" + tone(10, 24000)) + resampler.flush()) % 2 == 0


def test_reset_forgets_what_the_filter_held() -> None:
    resampler = Resampler(16000)
    resampler.feed(tone(100, 16000))

    resampler.reset()

    assert resampler.flush() == b""


def test_feeding_pcm_needs_a_source_rate() -> None:
    with pytest.raises(ValueError, match="source_rate"):
        Resampler().feed(b"\x00\x00")


def test_the_same_rate_is_left_alone() -> None:
    pcm = tone(20, 24000)

    assert resample_pcm16(pcm, 24000) is pcm
    assert pcm_frame(pcm, 24000).samples == 480
