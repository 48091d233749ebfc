"""Audio for the fake: a speech-like synthesiser, G.711, PyAV encode/decode and signal energy.

All PCM here is mono signed 16-bit little-endian. OpenAI's voice output is 24 kHz, so that is
the default rate everywhere.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import av
import numpy as np

SAMPLE_RATE = 24_000
PCM16_BYTES_PER_MS = 48  # 24 kHz * 2 bytes / 1000
G711_BYTES_PER_MS = 8  # 8 kHz * 1 byte / 1000

# response_format -> (container, codec); "pcm" is headerless and bypasses PyAV.
TTS_FORMATS: dict[str, tuple[str, str]] = {
    "mp3": ("mp3", "libmp3lame"),
    "opus": ("ogg", "libopus"),
    "aac": ("adts", "aac"),
    "flac": ("flac", "flac"),
    "wav": ("wav", "pcm_s16le"),
}
TTS_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


class UndecodableAudioError(ValueError):
    """The uploaded bytes are not an audio file PyAV can decode."""


def tone_pcm16(
    ms: float, freq: float = 440.0, amplitude: int = 8000, rate: int = SAMPLE_RATE
) -> bytes:
    """A sine tone, handy as "speech" for energy VAD tests."""
    t = np.arange(int(rate * ms / 1000)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def silence_pcm16(ms: float, rate: int = SAMPLE_RATE) -> bytes:
    """Digital silence."""
    return bytes(2 * int(rate * ms / 1000))


def speech_duration_s(
    text: str, ms_per_char: float, max_seconds: float, speed: float = 1.0
) -> float:
    """How long the fake "speaks" a text: proportional to its length, capped, at least 0.3 s."""
    return max(0.3, min(len(text) * ms_per_char / 1000 / speed, max_seconds))


@lru_cache(maxsize=32)
def synth_speech(text: str, seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    """Speech-like PCM16: a gliding harmonic voice, loud on letters, quiet on spaces, silent on
    punctuation, with a syllable-rate tremolo. Deterministic, so tests can compare bytes."""
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t)  # Hz; a slow pitch glide like intonation
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(h * phase) / h for h in range(1, 6))
    tremolo = 0.65 + 0.35 * np.sin(2 * np.pi * 4.5 * t)
    signal = voice / 2.3 * tremolo * _text_envelope(text or " ", n, rate)
    return (signal * 12_000).astype("<i2").tobytes()


def _text_envelope(text: str, n: int, rate: int) -> np.ndarray:
    levels = [1.0 if c.isalnum() else 0.0 if c in ".,!?;:" else 0.2 for c in text]
    env = np.repeat(np.array(levels), math.ceil(n / len(levels)))[:n]
    ramp = max(1, rate // 100)  # 10 ms smoothing so segment edges do not click
    return np.convolve(env, np.ones(ramp) / ramp, mode="same")


def resample_pcm16(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampling; good enough for synthetic signals."""
    if src_rate == dst_rate or not pcm:
        return pcm
    src = np.frombuffer(pcm, "<i2").astype(np.float64)
    dst_len = int(len(src) * dst_rate / src_rate)
    x = np.linspace(0, len(src) - 1, dst_len)
    return np.interp(x, np.arange(len(src)), src).astype("<i2").tobytes()


def encode_audio(pcm: bytes, response_format: str, rate: int = SAMPLE_RATE) -> bytes:
    """Encode PCM16 mono into a TTS response_format ("pcm" is returned raw)."""
    if response_format == "pcm":
        return pcm
    container_name, codec = TTS_FORMATS[response_format]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        if not isinstance(stream, av.AudioStream):  # every TTS_FORMATS codec is an audio codec
            raise TypeError(f"{codec} is not an audio codec")
        ctx = stream.codec_context
        resampler = av.AudioResampler(
            format=ctx.format.name, layout="mono", rate=rate, frame_size=ctx.frame_size or 1024
        )
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(pcm, "<i2").reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            container.mux(stream.encode(chunk))
        container.mux(stream.encode(None))
    return buf.getvalue()


def decoded_seconds(data: bytes) -> float:
    """Duration of an uploaded audio file (any container PyAV knows), by decoding it fully."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise UndecodableAudioError("no audio stream")
            samples, rate = 0, 0
            for frame in container.decode(container.streams.audio[0]):
                samples += frame.samples
                rate = frame.sample_rate
    except (av.FFmpegError, ValueError, EOFError) as exc:
        raise UndecodableAudioError(str(exc)) from exc
    if not rate:
        raise UndecodableAudioError("no audio frames")
    return samples / rate


# --- G.711 (audio/pcmu, audio/pcma at 8 kHz), for sessions that negotiate telephony formats.


def _ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (a & 0x70) >> 4
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


ULAW_TABLE = _ulaw_decode_table()
ALAW_TABLE = _alaw_decode_table()


def _encoder_from(table: np.ndarray) -> np.ndarray:
    # Nearest code for every 16-bit value: exact inverse of the decode table, built once.
    order = np.argsort(table)
    values = np.arange(-32768, 32768)
    idx = np.clip(np.searchsorted(table[order], values), 1, 255)
    lower, upper = order[idx - 1], order[idx]
    use_lower = np.abs(values - table[lower]) <= np.abs(values - table[upper])
    return np.where(use_lower, lower, upper).astype(np.uint8)


ULAW_ENCODE = _encoder_from(ULAW_TABLE)
ALAW_ENCODE = _encoder_from(ALAW_TABLE)


def g711_decode(data: bytes, law: str) -> np.ndarray:
    table = ULAW_TABLE if law == "audio/pcmu" else ALAW_TABLE
    return table[np.frombuffer(data, np.uint8)]


def g711_encode(pcm: bytes, law: str) -> bytes:
    encoder = ULAW_ENCODE if law == "audio/pcmu" else ALAW_ENCODE
    return encoder[np.frombuffer(pcm, "<i2").astype(np.int32) + 32768].tobytes()


def bytes_per_ms(format_type: str) -> int:
    """Bytes per millisecond of a Realtime audio format."""
    return PCM16_BYTES_PER_MS if format_type == "audio/pcm" else G711_BYTES_PER_MS


def to_samples(data: bytes, format_type: str) -> np.ndarray:
    """Linear samples of Realtime-format audio (PCM16 or G.711)."""
    if format_type == "audio/pcm":
        return np.frombuffer(data[: len(data) // 2 * 2], "<i2")
    return g711_decode(data, format_type)


def rms(samples: np.ndarray) -> float:
    """Root mean square in 16-bit units (full-scale sine = 23170)."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def synth_realtime_audio(text: str, format_type: str, ms_per_char: float, max_s: float) -> bytes:
    """Assistant audio for a Realtime response in the session's output format."""
    seconds = speech_duration_s(text, ms_per_char, max_s)
    if format_type == "audio/pcm":
        return synth_speech(text, seconds)
    return g711_encode(synth_speech(text, seconds, rate=8000), format_type)
