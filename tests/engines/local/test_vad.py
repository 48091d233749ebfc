"""Turn detection on synthesized speech and on silence."""

from __future__ import annotations

import numpy as np

from tests.engines.local import HINTS, speech, word_overlap
from voice.audio.resample import resample_pcm16
from voice.engines.base import SpeechStarted, SpeechStopped, TranscriptDelta, TurnDetection
from voice.engines.local.audio import silence
from voice.engines.local.intents import example_sentences
from voice.engines.local.listener import Listener, UtteranceEnd
from voice.engines.local.stt import Recognizer
from voice.engines.local.vad import FRAME_MS, TurnDetector, vad_mode


def push_all(detector: TurnDetector, pcm: bytes) -> list[tuple[int, str]]:
    changes = []
    for offset in range(0, len(pcm) - detector.frame_bytes + 1, detector.frame_bytes):
        if change := detector.push(pcm[offset : offset + detector.frame_bytes]):
            changes.append((detector.position_ms, change))
    return changes


def test_silence_is_never_speech() -> None:
    detector = TurnDetector(TurnDetection())

    changes = push_all(detector, silence(3000, 16000))

    assert changes == []
    assert not detector.speaking


def test_a_quiet_hiss_is_not_speech() -> None:
    detector = TurnDetector(TurnDetection())
    hiss = np.random.default_rng(1).normal(0, 60, 16000 * 2).astype(np.int16).tobytes()

    assert push_all(detector, hiss) == []


def test_speech_starts_and_stops_after_the_silence_window() -> None:
    settings = TurnDetection(silence_duration_ms=500)
    detector = TurnDetector(settings)
    spoken = resample_pcm16(speech("open the careers page"), 24000, 16000)
    audio = silence(400, 16000) + spoken + silence(800, 16000)
    speech_end_ms = 400 + len(spoken) * 1000 // 32000

    changes = push_all(detector, audio)

    assert [kind for _, kind in changes] == ["start", "stop"]
    started_ms, stopped_ms = changes[0][0], changes[1][0]
    assert 400 <= started_ms <= 400 + 5 * FRAME_MS
    assert speech_end_ms + 400 <= stopped_ms <= speech_end_ms + 600


def test_start_keeps_the_prefix_padding() -> None:
    detector = TurnDetector(TurnDetection(prefix_padding_ms=300))
    push_all(detector, silence(1000, 16000))
    spoken = resample_pcm16(speech("hello there"), 24000, 16000)

    for offset in range(0, len(spoken), detector.frame_bytes):
        if detector.push(spoken[offset : offset + detector.frame_bytes]) == "start":
            break
    start_ms, prefix = detector.take_prefix()

    assert len(prefix) >= 300 * 32  # 32 bytes per ms at 16 kHz
    assert start_ms <= 1000 - 300 + 5 * FRAME_MS
    assert start_ms == detector.position_ms - len(prefix) // 32


def test_threshold_maps_to_webrtc_aggressiveness() -> None:
    assert [vad_mode(t) for t in (0.0, 0.3, 0.5, 0.9, 1.0)] == [0, 1, 2, 3, 3]


def test_listener_turns_speech_into_events_in_order() -> None:
    listener = Listener(Recognizer(), TurnDetection())
    listener.configure(example_sentences(HINTS))
    audio = silence(300) + speech("show me the blog") + silence(700)

    events = []
    for offset in range(0, len(audio), 960):
        events += listener.feed(audio[offset : offset + 960])

    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted
    assert set(kinds[1:-2]) <= {TranscriptDelta}
    assert kinds[-2:] == [SpeechStopped, UtteranceEnd]
    assert word_overlap("show me the blog", events[-1].text) >= 0.75
    assert not events[-1].explicit
