"""Speech synthesis with espeak-ng: format, voices, speed, chunking."""

from __future__ import annotations

import numpy as np

from voice.audio.resample import Resampler, resample_pcm16
from voice.engines.local.tts import (
    DEFAULT_ESPEAK_VOICE,
    VOICE_MAP,
    espeak_voice,
    get_synthesizer,
    speech_rate,
    split_chunks,
)
from voice.engines.voices import VOICES


def seconds(pcm: bytes) -> float:
    return len(pcm) / 48000  # PCM16 mono at 24 kHz


def test_synthesis_gives_audible_24khz_pcm16() -> None:
    pcm = get_synthesizer().synthesize("Taking you to the pricing page.")

    samples = np.frombuffer(pcm, dtype=np.int16)
    assert 1.0 < seconds(pcm) < 4.0
    assert np.abs(samples).max() > 5000


def test_faster_speech_is_shorter() -> None:
    synthesizer = get_synthesizer()
    text = "I found three pages about security."

    slow = synthesizer.synthesize(text, speed=0.8)
    fast = synthesizer.synthesize(text, speed=1.3)

    assert seconds(fast) < seconds(slow) * 0.8


def test_session_voices_map_to_espeak_voices() -> None:
    assert espeak_voice("alloy") == "en-us"
    assert espeak_voice("coral") == "en-us+f3"
    assert espeak_voice("en-GB") == "en"
    assert espeak_voice("nonsense; rm -rf") == DEFAULT_ESPEAK_VOICE
    assert espeak_voice(None) == DEFAULT_ESPEAK_VOICE


def test_voices_sound_different() -> None:
    synthesizer = get_synthesizer()

    male = synthesizer.synthesize("hello there", espeak_voice("onyx"))
    female = synthesizer.synthesize("hello there", espeak_voice("shimmer"))

    assert male != female


def test_speed_maps_to_a_bounded_speaking_rate() -> None:
    assert speech_rate(1.0) == 175
    assert speech_rate(0.25) == 80
    assert speech_rate(4.0) == 450


def test_chunks_cover_the_audio_in_order() -> None:
    pcm = bytes(range(256)) * 100

    chunks = list(split_chunks(pcm, chunk_ms=60))

    assert b"".join(chunks) == pcm
    assert all(len(c) == 2880 for c in chunks[:-1])


def test_streaming_resampler_matches_whole_buffer_resampling() -> None:
    pcm = get_synthesizer().synthesize("open the blog")
    resampler = Resampler(24000, 16000)

    pieces = b"".join(resampler.feed(pcm[i : i + 961]) for i in range(0, len(pcm), 961))
    pieces += resampler.flush()

    assert abs(len(pieces) - len(resample_pcm16(pcm, 24000, 16000))) <= 4
    assert abs(len(pieces) / 32000 - seconds(pcm)) < 0.01


def test_every_voice_a_client_may_ask_for_has_an_espeak_voice() -> None:
    assert set(VOICE_MAP) == set(VOICES)
    assert {espeak_voice(voice) for voice in VOICES} == set(VOICE_MAP.values())
