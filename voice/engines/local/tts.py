"""Speech synthesis with espeak-ng, loaded from the ``espeakng-loader`` wheel through ctypes.

libespeak-ng keeps global state (one voice, one callback), so the process shares a single
``EspeakSynthesizer`` and every call holds its lock. Synthesis is far faster than real time.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import espeakng_loader

from voice.audio.resample import resample_pcm16
from voice.engines.base import BYTES_PER_MS, AudioDelta, TextDelta, TextDone
from voice.engines.local.text import sentences

logger = logging.getLogger(__name__)

ESPEAK_RATE_WPM = 175  # espeak's own default speaking rate, our speed 1.0
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450
DEFAULT_ESPEAK_VOICE = "en-us"
AUDIO_CHUNK_MS = 60  # size of each AudioDelta
_WORDS = re.compile(r"\S+\s*")

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PHONEMES_IPA_SEPARATED = 0x02 | (ord("_") << 8)  # IPA names, "_" between phonemes

# Every voice of voice.engines.voices.VOICES -> an espeak voice ("+variant" picks a timbre
# from voices/!v).
VOICE_MAP = {
    "alloy": "en-us",
    "ash": "en-us+m3",
    "ballad": "en-gb-x-rp+m2",
    "coral": "en-us+f3",
    "echo": "en-us+m1",
    "fable": "en-gb-x-rp",
    "onyx": "en-us+m7",
    "nova": "en-us+f4",
    "sage": "en-us+f2",
    "shimmer": "en-us+f5",
    "verse": "en-us+m4",
    "marin": "en-us+f1",
    "cedar": "en-us+m2",
}
# espeak-ng names British English "en"; accept the usual tag too.
_ALIASES = {"en-gb": "en", "en-uk": "en"}

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def speech_rate(speed: float) -> int:
    """Words per minute for espeak from a speed factor (1.0 = normal)."""
    return max(MIN_RATE_WPM, min(MAX_RATE_WPM, round(ESPEAK_RATE_WPM * speed)))


class EspeakSynthesizer:
    """Text to PCM16 mono at the engine rate; thread-safe, one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
        ]  # fmt: skip
        data_path = espeakng_loader.get_data_path().encode()
        self.native_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.native_rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        # Keep the callback object alive as long as the library may call it.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        self._voice = ""

    def _collect(self, wav: Any, n_samples: int, _events: Any) -> int:
        if wav and n_samples > 0:
            self._chunks.append(ctypes.string_at(wav, n_samples * 2))
        return 0  # 0 = go on synthesizing

    def _set_voice(self, voice: str) -> None:
        if voice == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            logger.warning("espeak voice %s not found, using %s", voice, DEFAULT_ESPEAK_VOICE)
            self._lib.espeak_SetVoiceByName(DEFAULT_ESPEAK_VOICE.encode())
        self._voice = voice

    def synthesize(self, text: str, voice: str = DEFAULT_ESPEAK_VOICE, speed: float = 1.0) -> bytes:
        """Speak ``text``; returns PCM16 mono at ``ENGINE_SAMPLE_RATE``."""
        data = text.encode()
        with self._lock:
            self._set_voice(voice)
            self._lib.espeak_SetParameter(_PARAM_RATE, speech_rate(speed), 0)
            self._chunks = []
            error = self._lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            native = b"".join(self._chunks)
            self._chunks = []
        if error:
            logger.warning("espeak could not speak %d characters (error %d)", len(text), error)
        return resample_pcm16(native, self.native_rate)

    def phonemes(self, word: str, voice: str = DEFAULT_ESPEAK_VOICE) -> list[str]:
        """IPA phonemes of one word as espeak would say it (our grapheme-to-phoneme step)."""
        buf = ctypes.c_char_p(word.encode())
        with self._lock:
            self._set_voice(voice)
            out = self._lib.espeak_TextToPhonemes(
                ctypes.byref(buf), _CHARS_UTF8, _PHONEMES_IPA_SEPARATED
            )
        text = (out or b"").decode("utf-8", "replace")
        return [p for p in text.replace(" ", "_").split("_") if p]


def espeak_voice(voice: str | None) -> str:
    """The espeak voice for a session voice: OpenAI names, espeak names, else US English."""
    name = (voice or "").strip().lower()
    if name in VOICE_MAP:
        return VOICE_MAP[name]
    base, _, variant = name.partition("+")
    base = _ALIASES.get(base, base)
    if base.startswith("en") and base.replace("-", "").isalnum():
        return f"{base}+{variant}" if variant.isalnum() else base
    return DEFAULT_ESPEAK_VOICE


_shared: EspeakSynthesizer | None = None
_shared_lock = threading.Lock()


def get_synthesizer() -> EspeakSynthesizer:
    """The process's synthesizer, created on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EspeakSynthesizer()
        return _shared


async def spoken_reply(
    response_id: str,
    reply: str,
    synthesizer: EspeakSynthesizer,
    voice: str = DEFAULT_ESPEAK_VOICE,
    speed: float = 1.0,
) -> AsyncIterator[TextDelta | TextDone | AudioDelta]:
    """The reply's text word by word, then its speech sentence by sentence: the first audio
    is ready as soon as the first sentence is synthesized (in a worker thread)."""
    for piece in _WORDS.findall(reply):
        yield TextDelta(response_id=response_id, text=piece)
    yield TextDone(response_id=response_id, text=reply)
    for sentence in sentences(reply):
        pcm = await asyncio.to_thread(synthesizer.synthesize, sentence, voice, speed)
        for chunk in split_chunks(pcm):
            yield AudioDelta(response_id=response_id, pcm=chunk)


def split_chunks(pcm: bytes, chunk_ms: int = AUDIO_CHUNK_MS) -> Iterator[bytes]:
    """Cut PCM16 at the engine rate into pieces of ``chunk_ms`` for streaming."""
    size = BYTES_PER_MS * chunk_ms
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]
