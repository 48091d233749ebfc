"""Shared helpers for the offline engine's tests: synthesized speech and event collection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from functools import cache

from voice.audio.resample import resample_pcm16
from voice.engines.base import EngineEvent
from voice.engines.local.audio import silence
from voice.engines.local.tts import get_synthesizer

HINTS = ("Pricing", "Careers", "Documentation", "Security", "Blog", "Contact")
TEST_VOICE = "en-us"  # the espeak voice pocketsphinx hears most reliably
EVENT_TIMEOUT = 10.0


@cache
def speech(text: str, voice: str = TEST_VOICE, speed: float = 1.0) -> bytes:
    """``text`` spoken by espeak-ng: PCM16 mono at 24 kHz, without leading silence."""
    return get_synthesizer().synthesize(text, voice, speed)


def utterance(text: str, voice: str = TEST_VOICE, pause_ms: int = 300) -> bytes:
    """Speech with silence around it, as a microphone would send it (24 kHz)."""
    return silence(pause_ms) + speech(text, voice) + silence(pause_ms)


def utterance_16k(text: str, voice: str = TEST_VOICE) -> bytes:
    """The same utterance at the recogniser's 16 kHz."""
    return resample_pcm16(utterance(text, voice), 24000, 16000)


def word_overlap(expected: str, heard: str) -> float:
    """Share of the expected words that were heard (order ignored)."""
    want, got = expected.lower().split(), heard.lower().split()
    return sum(1 for w in want if w in got) / len(want)


async def collect_until(
    stream: AsyncIterator[EngineEvent],
    stop: Callable[[EngineEvent], bool],
    within_s: float = EVENT_TIMEOUT,
) -> list[EngineEvent]:
    """Events from one ``events()`` iterator up to and including the first ``stop`` event."""
    seen: list[EngineEvent] = []

    async def pull() -> None:
        while not seen or not stop(seen[-1]):
            seen.append(await anext(stream))

    await asyncio.wait_for(pull(), within_s)
    return seen
