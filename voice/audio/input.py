"""Client audio in its negotiated format -> engine PCM (PCM16 mono 24 kHz)."""

from __future__ import annotations

import asyncio
import threading

from voice.audio.codecs import BadAudioError, OpusDecoder, PcmDecoder, WebmDecoder


class InputAudio:
    """Decodes one client's audio. WebM decodes on a thread; the others inline."""

    def __init__(self, audio_format: str, sample_rate: int) -> None:
        self.format = audio_format
        self._lock = threading.Lock()
        self._decoded = bytearray()  # WebM output not yet handed to the engine
        self._error: str | None = None
        self._fed = 0
        self._produced = 0
        self._webm: WebmDecoder | None = None
        self._inline: PcmDecoder | OpusDecoder | None = None
        if audio_format == "webm":
            self._webm = WebmDecoder(self._on_pcm, self._on_error)
        elif audio_format == "opus":
            self._inline = OpusDecoder()
        else:
            self._inline = PcmDecoder(sample_rate)

    def decode(self, data: bytes) -> bytes:
        """Engine PCM ready now (for WebM: what earlier chunks decoded to)."""
        if self._inline is not None:
            return self._inline.decode(data)
        assert self._webm is not None
        self._raise_pending_error()
        self._webm.feed(data)
        self._fed += len(data)
        return self._take()

    async def drain(self) -> tuple[bytes, str | None]:
        """Everything decoded so far, and an error if the utterance held no decodable audio."""
        if self._webm is None:
            held = self._inline.flush() if isinstance(self._inline, PcmDecoder) else b""
            return held, None
        await asyncio.to_thread(self._webm.drained)
        pcm = self._take()
        with self._lock:
            error, self._error = self._error, None
        if error is None and self._fed and not self._produced:
            error = "no decodable audio in the WebM stream"
            self._webm.close()
        self._fed = self._produced = 0
        return pcm, error

    def restart(self) -> None:
        """A new utterance: drop decoded audio not yet used."""
        self._take()
        if isinstance(self._inline, PcmDecoder):
            self._inline.flush()
        self._fed = self._produced = 0

    def close(self) -> None:
        if self._webm is not None:
            self._webm.close()

    def _on_pcm(self, pcm: bytes) -> None:
        with self._lock:
            self._decoded += pcm
            self._produced += len(pcm)

    def _on_error(self, message: str) -> None:
        with self._lock:
            self._error = message

    def _take(self) -> bytes:
        with self._lock:
            pcm = bytes(self._decoded)
            self._decoded.clear()
        return pcm

    def _raise_pending_error(self) -> None:
        with self._lock:
            error, self._error = self._error, None
        if error:
            raise BadAudioError(error)
