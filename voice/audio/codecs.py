"""Audio conversion with PyAV: client formats in, PCM16 mono 24 kHz inside, client formats out."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import cast

import av

from voice.audio.resample import Resampler, pcm_frame
from voice.engines.base import ENGINE_SAMPLE_RATE

logger = logging.getLogger(__name__)

EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # every WebM stream starts with it


class BadAudioError(Exception):
    """The bytes could not be decoded in the announced format."""


class PcmDecoder:
    """PCM16 little-endian mono at ``rate`` -> engine PCM."""

    # Resampling costs mostly per call: 20 ms frames are converted two at a time. Engines send
    # upstream in 40 ms pieces anyway; ``flush`` hands over a held frame at the end of a turn.
    BATCH_MS = 40

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler = None if rate == ENGINE_SAMPLE_RATE else Resampler(rate)
        self._batch_bytes = rate * 2 * self.BATCH_MS // 1000
        self._held = b""

    def decode(self, data: bytes) -> bytes:
        if len(data) % 2:
            raise BadAudioError("PCM16 audio must have an even number of bytes")
        if self._resampler is None:
            return data
        self._held += data
        if len(self._held) < self._batch_bytes:
            return b""
        return self.flush()

    def flush(self) -> bytes:
        """Convert whatever is held back."""
        held, self._held = self._held, b""
        if not held or self._resampler is None:
            return held
        return self._resampler.feed(held)


class OpusDecoder:
    """One raw Opus packet per call -> engine PCM."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("libopus", "r")
        self._codec.sample_rate = 48000
        self._codec.layout = "mono"
        self._resampler = Resampler()

    def decode(self, data: bytes) -> bytes:
        try:
            frames = self._codec.decode(av.Packet(data))
        except (av.FFmpegError, ValueError) as exc:
            raise BadAudioError(f"not an Opus packet: {exc}") from None
        return b"".join(self._resampler.convert(f) for f in frames)


class _ChunkReader:
    """A blocking file-like view of the chunks fed so far, for PyAV's demuxer thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._chunks: collections.deque[bytes | None] = collections.deque()
        # Waiting for input with every chunk taken: all fed so far is decoded. Set and cleared
        # under the same lock as the chunks, so no reader can see a stale value.
        self._starved = False
        self._stopped = False  # the demuxer ended: nothing more will be read
        self._pending = b""

    def put(self, chunk: bytes | None) -> None:
        with self._changed:
            if not self._stopped:
                self._chunks.append(chunk)
                self._changed.notify_all()

    def read(self, size: int) -> bytes:
        if not self._pending:
            with self._changed:
                while not self._chunks:
                    self._starved = True
                    self._changed.notify_all()
                    self._changed.wait()
                chunk = self._chunks.popleft()
                self._starved = False
            if chunk is None:
                return b""
            self._pending = chunk
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def wait_starved(self, timeout: float) -> bool:
        """Wait until everything fed so far is decoded (or the demuxer ended); False on timeout."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._stopped or (self._starved and not self._chunks), timeout
            )

    def stop(self) -> None:
        """The demuxer ended: drop what was queued after it, and release waiters."""
        with self._changed:
            self._chunks.clear()
            self._stopped = True
            self._changed.notify_all()


class WebmDecoder:
    """MediaRecorder ``audio/webm;codecs=opus`` chunks -> engine PCM, decoded as they arrive.

    Only the first chunk of a recording carries the container header, so the chunks are one
    stream: a demuxer thread reads them as they come. A chunk starting with the EBML header
    begins a new recording (a new MediaRecorder) and a new stream.
    """

    def __init__(self, on_pcm: Callable[[bytes], None], on_error: Callable[[str], None]) -> None:
        self._on_pcm = on_pcm
        self._on_error = on_error
        self._reader: _ChunkReader | None = None
        self._thread: threading.Thread | None = None

    def feed(self, data: bytes) -> None:
        if data.startswith(EBML_MAGIC):
            self.close()
            self._start()
        elif self._reader is None:
            raise BadAudioError("WebM audio must start with a chunk carrying the header")
        assert self._reader is not None
        self._reader.put(data)

    def drained(self, timeout: float = 2.0) -> bool:
        """Wait until every chunk fed so far has been decoded and delivered."""
        reader = self._reader
        return reader is None or reader.wait_starved(timeout)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.put(None)
        self._reader = None
        self._thread = None

    def _start(self) -> None:
        reader = _ChunkReader()
        self._reader = reader
        self._thread = threading.Thread(
            target=self._run, args=(reader,), name="webm-decoder", daemon=True
        )
        self._thread.start()

    def _run(self, reader: _ChunkReader) -> None:
        resampler = Resampler()
        try:
            with av.open(reader, mode="r", format="webm", options={"probesize": "4096"}) as box:
                stream = box.streams.audio[0]
                for packet in box.demux(stream):
                    for frame in packet.decode():
                        self._on_pcm(resampler.convert(frame))
        except (av.FFmpegError, IndexError, ValueError) as exc:
            logger.info("webm stream undecodable: %s", exc)
            self._on_error(f"undecodable WebM audio: {exc}")
        finally:
            reader.stop()


# ---- output ----------------------------------------------------------------------------------


class Encoder:
    """Engine PCM -> one output format. ``encode`` may return several chunks (Opus packets)."""

    format = "pcm16"

    def encode(self, pcm: bytes) -> list[bytes]:
        return [pcm] if pcm else []

    def flush(self) -> list[bytes]:
        return []


class _CodecEncoder(Encoder):
    codec_name = ""
    rate = ENGINE_SAMPLE_RATE

    def __init__(self) -> None:
        self._open()

    def _open(self) -> None:
        self._codec = cast(av.AudioCodecContext, av.CodecContext.create(self.codec_name, "w"))
        self._codec.sample_rate = self.rate
        self._codec.layout = "mono"
        formats = self._codec.codec.audio_formats
        assert formats, f"{self.codec_name} is an audio encoder"
        self._codec.format = formats[0].name
        self._configure()
        self._codec.open()
        self._pts = 0

    def _configure(self) -> None:
        pass

    def _packets(self, frame: av.AudioFrame | None) -> list[bytes]:
        return [bytes(p) for p in self._codec.encode(frame)]

    def encode(self, pcm: bytes) -> list[bytes]:
        if not pcm:
            return []
        frame = pcm_frame(pcm, ENGINE_SAMPLE_RATE)
        frame.pts = self._pts
        self._pts += frame.samples
        return self._join(self._packets(frame))

    def flush(self) -> list[bytes]:
        """End of a response: the encoder's tail; the encoder is ready for the next one."""
        tail = self._join(self._packets(None))
        self._open()
        return tail

    def _join(self, packets: list[bytes]) -> list[bytes]:
        return packets


class Mp3Encoder(_CodecEncoder):
    """MP3 frames: concatenated, they are a playable MP3 stream."""

    format = "mp3"
    codec_name = "libmp3lame"

    def _configure(self) -> None:
        self._codec.bit_rate = 48_000

    def _join(self, packets: list[bytes]) -> list[bytes]:
        return [b"".join(packets)] if packets else []


class OpusEncoder(_CodecEncoder):
    """Raw Opus packets, 20 ms each at 48 kHz, one chunk per packet."""

    format = "opus"
    codec_name = "libopus"
    rate = 48000

    def _configure(self) -> None:
        self._codec.bit_rate = 32_000
        self._codec.options = {"frame_duration": "20", "application": "voip"}


ENCODERS: dict[str, type[Encoder]] = {"pcm16": Encoder, "mp3": Mp3Encoder, "opus": OpusEncoder}


def make_encoder(output_format: str) -> Encoder:
    return ENCODERS[output_format]()
