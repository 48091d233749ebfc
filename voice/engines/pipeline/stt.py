"""Live transcription for the pipeline engine without re-uploading the utterance.

The utterance is cut into segments of about ``segment_ms`` at its quietest moment, and each
segment is uploaded once (Ogg Opus) as soon as it is complete, with the transcript streamed
back. Upstream traffic is therefore linear in the utterance length, and the final transcript
after ``stop_listening`` only waits for the last, short segment.
"""

from __future__ import annotations

import asyncio
import io
import math
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from openai import AsyncOpenAI

from voice.audio.resample import pcm_frame
from voice.engines.base import BYTES_PER_MS, ENGINE_SAMPLE_RATE

SILENCE_RMS = 120  # below this a segment is silence and is not uploaded
WINDOW_BYTES = 20 * BYTES_PER_MS  # 20 ms analysis windows
MIN_SEGMENT_MS = 100  # the service wants at least 100 ms of audio


def encode_ogg_opus(pcm: bytes) -> bytes:
    """PCM16 24 kHz mono -> an Ogg Opus file (about a tenth of the WAV size)."""
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        stream.bit_rate = 24_000
        for packet in stream.encode(pcm_frame(pcm, ENGINE_SAMPLE_RATE)):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def encode_wav(pcm: bytes) -> bytes:
    """PCM16 24 kHz mono -> WAV: no encoding time, for the tail the user is waiting on."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(ENGINE_SAMPLE_RATE)
        wav.writeframes(pcm)
    return out.getvalue()


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


def quietest_cut(pcm: bytes, start: int, end: int, search_ms: int = 400) -> int:
    """A byte offset in ``[end - search_ms, end]`` at the quietest 20 ms window."""
    lo = max(start, end - search_ms * BYTES_PER_MS)
    lo -= (lo - start) % 2
    best, best_energy = end, math.inf
    for offset in range(lo, end - WINDOW_BYTES + 1, WINDOW_BYTES):
        energy = rms(pcm[offset : offset + WINDOW_BYTES])
        if energy < best_energy:
            best, best_energy = offset + WINDOW_BYTES // 2, energy
    return best - (best - start) % 2


@dataclass
class _Segment:
    text: str = ""
    done: bool = False


@dataclass
class SegmentedTranscriber:
    """One utterance's live transcription; ``on_partial`` gets the whole text so far."""

    client: AsyncOpenAI
    model: str
    language: str | None
    on_partial: Callable[[str], None]
    segment_ms: int = 1200
    streaming: bool = True
    uploaded_bytes: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    _pcm: bytearray = field(default_factory=bytearray)
    _cut: int = 0
    _segments: list[_Segment] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def append(self, pcm: bytes) -> None:
        self._pcm += pcm
        if len(self._pcm) - self._cut >= self.segment_ms * BYTES_PER_MS:
            cut = quietest_cut(bytes(self._pcm), self._cut, len(self._pcm))
            self._launch(bytes(self._pcm[self._cut : cut]))
            self._cut = cut

    async def finish(self) -> str:
        """Upload the tail, wait for every segment, return the final transcript."""
        if len(self._pcm) - self._cut >= MIN_SEGMENT_MS * BYTES_PER_MS:
            self._launch(bytes(self._pcm[self._cut :]), tail=True)
        self._cut = len(self._pcm)
        await asyncio.gather(*self._tasks)
        return self.text()

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    def text(self) -> str:
        return " ".join(s.text.strip() for s in self._segments if s.text.strip())

    def _launch(self, pcm: bytes, tail: bool = False) -> None:
        segment = _Segment()
        self._segments.append(segment)
        if rms(pcm) < SILENCE_RMS:
            segment.done = True
            return
        index = len(self._segments)
        work = self._transcribe(segment, pcm, tail)
        task = asyncio.create_task(work, name=f"stt-segment-{index}")
        self._tasks.append(task)

    async def _transcribe(self, segment: _Segment, pcm: bytes, tail: bool) -> None:
        # Segments cut while the user speaks are compressed; the tail, which the user waits
        # for after stop_listening, is sent as WAV to save the encoding time.
        if tail:
            file = ("speech.wav", encode_wav(pcm), "audio/wav")
        else:
            file = ("speech.ogg", encode_ogg_opus(pcm), "audio/ogg")
        self.uploaded_bytes += len(file[1])
        kwargs: dict[str, Any] = {"file": file, "model": self.model}
        if self.language:
            kwargs["language"] = self.language
        if not self.streaming:
            result = await self.client.audio.transcriptions.create(**kwargs)
            segment.text = result.text
            self._add_usage(getattr(result, "usage", None))
        else:
            stream = await self.client.audio.transcriptions.create(**kwargs, stream=True)
            async for event in stream:
                if event.type == "transcript.text.delta":
                    segment.text += event.delta
                    self.on_partial(self.text())
                elif event.type == "transcript.text.done":
                    segment.text = event.text
                    self._add_usage(getattr(event, "usage", None))
        segment.done = True
        self.on_partial(self.text())

    def _add_usage(self, usage: Any) -> None:
        if usage is None:
            return
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            value = getattr(usage, key, None)
            if isinstance(value, int):
                self.usage[key] = self.usage.get(key, 0) + value
        seconds = getattr(usage, "seconds", None)
        if isinstance(seconds, int | float):
            self.usage["seconds"] = self.usage.get("seconds", 0) + int(seconds)
