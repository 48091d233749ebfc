"""The words the recogniser can hear, with their pronunciations.

The packaged CMU dictionary has 134k words, and loading all of it costs every decoder about
27 MB and 0.2 s. A decoder gets only the most frequent words instead (``BACKGROUND_WORDS``),
plus the words of its site phrases, looked up in the dictionary file when needed.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
from dataclasses import dataclass

from pocketsphinx import Config, LogMath, NGramModel, get_model_path

from voice.engines.local.langmodel import BACKGROUND_WORDS
from voice.engines.local.phonetics import pronounce
from voice.engines.local.tts import get_synthesizer

logger = logging.getLogger(__name__)

MODEL_DIR = f"{get_model_path()}/en-us"
CMU_DICT = f"{MODEL_DIR}/cmudict-en-us.dict"
_LOG_BASE = math.log(1.0001)  # LogMath's default base: probabilities come as log_1.0001


@dataclass(frozen=True)
class Lexicon:
    """The most frequent words with their unigram probabilities, and their dictionary."""

    background: tuple[tuple[str, float], ...]  # most frequent first
    dictionary_text: str  # their pronunciations, in pocketsphinx's dictionary format

    def pronunciations(self, words: set[str]) -> dict[str, str]:
        """CMU pronunciations of ``words``; espeak-ng makes the ones the dictionary lacks."""
        found: dict[str, str] = {}
        with open(CMU_DICT, encoding="utf-8") as lines:
            for line in lines:
                word, _, phones = line.strip().partition(" ")
                if word in words and word not in found:  # "word(2)" variants never match
                    found[word] = phones.strip()
        for word in words - found.keys():
            if made := pronounce(word, get_synthesizer()):
                found[word] = made
        return found


_lexicon: Lexicon | None = None
_lock = threading.Lock()


def get_lexicon() -> Lexicon:
    """The process's lexicon, read once (about 0.6 s) and shared: it never changes."""
    global _lexicon
    with _lock:
        if _lexicon is None:
            _lexicon = _load()
        return _lexicon


def _load() -> Lexicon:
    with open(CMU_DICT, encoding="utf-8") as lines:
        entries = [line.strip().partition(" ") for line in lines]
    words = {head for head, _, _ in entries if "(" not in head and head.isascii()}
    general = NGramModel(Config(), LogMath(), f"{MODEL_DIR}/en-us.lm.bin")
    scored = heapq.nlargest(BACKGROUND_WORDS, ((general.prob([w]), w) for w in words))
    keep = {w for _, w in scored}
    text = "\n".join(f"{head} {phones.strip()}" for head, _, phones in entries
                     if head.split("(", 1)[0] in keep)  # fmt: skip
    logger.info("lexicon: %d of %d words kept for decoding", len(keep), len(words))
    background = tuple((w, math.exp(logprob * _LOG_BASE)) for logprob, w in scored)
    return Lexicon(background, text + "\n")
