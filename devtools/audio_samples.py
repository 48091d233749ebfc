"""Audio the tests send: tones and silence as PCM16, WebM (MediaRecorder-like) and Opus packets."""

from __future__ import annotations

import io

import av
import numpy as np

from voice.audio.resample import pcm_frame


def tone(seconds: float, rate: int = 24000, freq: float = 440.0, amplitude: int = 8000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude).astype("<i2").tobytes()


def silence(seconds: float, rate: int = 24000) -> bytes:
    return b"\0\0" * int(seconds * rate)


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def webm_opus(pcm: bytes, rate: int = 24000) -> bytes:
    """A WebM/Opus recording, as MediaRecorder ``audio/webm;codecs=opus`` produces."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        for packet in stream.encode(pcm_frame(pcm, rate)):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def opus_packets(pcm: bytes, rate: int = 24000) -> list[bytes]:
    """Raw 20 ms Opus packets at 48 kHz."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = 48000
    codec.layout = "mono"
    codec.format = "s16"
    codec.options = {"frame_duration": "20"}
    codec.open()
    packets = [bytes(p) for p in codec.encode(pcm_frame(pcm, rate))]
    return packets + [bytes(p) for p in codec.encode(None)]


def decode_file(data: bytes) -> float:
    """Seconds of audio in an encoded file (mp3, ogg, ...)."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


def decode_opus_packets(packets: list[bytes]) -> float:
    codec = av.CodecContext.create("libopus", "r")
    codec.sample_rate = 48000
    codec.layout = "mono"
    samples = sum(f.samples for p in packets for f in codec.decode(av.Packet(p)))
    return samples / 48000
