"""Streaming speech recognition with pocketsphinx (its wheel ships the US English models).

One ``Recognizer`` per engine; it is not thread-safe, the engine calls it from one worker at a
time. Recognition is biased toward the site by a language model built from the responder's
phrases and the session's hints; words the dictionary lacks get pronunciations from espeak.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from pocketsphinx import Decoder

from voice.engines.local.langmodel import build_arpa
from voice.engines.local.lexicon import get_lexicon

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
# A faint noise floor (about -50 dBFS). Digital silence and the empty upper spectrum of
# synthetic or heavily denoised audio give log-filterbank features the acoustic model never
# saw in training; a microphone-like hiss removes that mismatch and costs real speech nothing.
NOISE_FLOOR = 100.0
SITE, GENERAL = "site", "general"


class Recognizer:
    """pocketsphinx decoding of 16 kHz PCM16, one utterance at a time."""

    def __init__(self, language_model: str = SITE, noise_floor: float = NOISE_FLOOR) -> None:
        self.language_model = language_model
        self.noise_floor = noise_floor
        if language_model == SITE:
            # The site model replaces the packaged general one, which is not loaded at all.
            with _temporary_file(".dict", get_lexicon().dictionary_text) as path:
                self._decoder = Decoder(samprate=SAMPLE_RATE, lm=None, dict=path, loglevel="FATAL")
        else:
            self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._rng = np.random.default_rng(0)
        self._searches = 0
        self.in_utterance = False
        # The live cepstral mean starts from a generic guess (c0 about 20 units off for usual
        # levels). Start from the estimate of earlier utterances in this process instead; the
        # very first utterance has none, so it is decoded again at its end.
        seed = _shared_cmn()
        if seed:
            self._decoder.set_cmn(seed)
        self._cold = seed is None
        self._first_audio: list[bytes] = []
        if language_model == SITE:
            self.configure([])

    def configure(self, sentences: Iterable[str]) -> None:
        """Bias recognition toward ``sentences`` (site phrases); call between utterances."""
        if self.language_model != SITE:
            return
        sentences = [s for s in sentences if s]
        lexicon = get_lexicon()
        words = {w for s in sentences for w in s.split()}
        missing = {w for w in words if self._decoder.lookup_word(w) is None}
        added = lexicon.pronunciations(missing) if missing else {}
        for word, phones in added.items():
            self._decoder.add_word(word, phones, False)
        arpa = build_arpa(sentences, lexicon.background)
        self._searches += 1
        name = f"site{self._searches}"
        with _temporary_file(".arpa", arpa) as path:
            self._decoder.add_lm_file(name, path)
        self._decoder.activate_search(name)
        logger.debug("site model: %d sentences, %d words added", len(sentences), len(added))

    def start(self) -> None:
        """Begin an utterance."""
        self.abort()
        self._rng = np.random.default_rng(0)  # same audio, same transcript
        self._decoder.start_utt()
        self.in_utterance = True

    def feed(self, pcm: bytes) -> None:
        """Decode more of the utterance (PCM16 mono at 16 kHz)."""
        if not pcm:
            return
        if not self.in_utterance:
            self.start()
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
        if self.noise_floor:
            samples += self._rng.normal(0.0, self.noise_floor, samples.size).astype(np.float32)
        audio = np.clip(samples, -32768, 32767).astype(np.int16).tobytes()
        if self._cold:
            self._first_audio.append(audio)
        self._decoder.process_raw(audio, False, False)

    def partial(self) -> str:
        """The best hypothesis so far."""
        hyp = self._decoder.hyp() if self.in_utterance else None
        return _clean(hyp.hypstr) if hyp else ""

    def finish(self) -> str:
        """End the utterance and return its final transcript."""
        if not self.in_utterance:
            return ""
        self._decoder.end_utt()
        self.in_utterance = False
        if self._cold and self._first_audio:
            self._redecode_first_utterance()
        hyp = self._decoder.hyp()
        _share_cmn(self._decoder.get_cmn(False))
        return _clean(hyp.hypstr) if hyp else ""

    def _redecode_first_utterance(self) -> None:
        """Decode the first utterance again as a whole, with its own (batch) cepstral mean.

        Costs about a tenth of the utterance's length, once per process, and cuts that
        utterance's word errors by about a third.
        """
        audio = b"".join(self._first_audio)
        self._cold, self._first_audio = False, []
        self._decoder.start_utt()
        self._decoder.process_raw(audio, False, True)
        self._decoder.end_utt()

    def abort(self) -> None:
        """Drop the current utterance, if any."""
        self._first_audio = []
        if self.in_utterance:
            self.in_utterance = False
            try:
                self._decoder.end_utt()
            except RuntimeError:  # a decoder in a bad state is reset by the next start_utt
                logger.warning("pocketsphinx could not end an utterance", exc_info=True)


_cmn: str | None = None
_cmn_lock = threading.Lock()


def _shared_cmn() -> str | None:
    """The latest cepstral mean any recogniser of this process reached, if any."""
    with _cmn_lock:
        return _cmn


def _share_cmn(cmn: str) -> None:
    global _cmn
    with _cmn_lock:
        _cmn = cmn


@contextmanager
def _temporary_file(suffix: str, text: str) -> Iterator[str]:
    """A file holding ``text`` while the block runs: pocketsphinx reads models from files only."""
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        os.unlink(path)


def _clean(text: str) -> str:
    # Filler tokens like "<sil>" or "[noise]" never reach the transcript.
    return " ".join(w for w in text.split() if not w.startswith(("<", "[", "+")))
