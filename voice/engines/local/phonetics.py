"""Pronunciations for words the recogniser's dictionary lacks (brand names, site jargon).

espeak-ng already knows how to read English spelling, so it is our grapheme-to-phoneme step:
its IPA output is mapped onto the ARPAbet phones of the pocketsphinx US English model.
"""

from __future__ import annotations

import logging

from voice.engines.local.tts import EspeakSynthesizer

logger = logging.getLogger(__name__)

# IPA (as espeak-ng writes it for English) -> ARPAbet. Longest match first, so diphthongs and
# r-coloured vowels are looked up before their parts.
IPA_TO_ARPABET: dict[str, str] = {
    "aɪə": "AY ER", "aɪɚ": "AY ER", "aʊə": "AW ER",
    "ɑːɹ": "AA R", "ɔːɹ": "AO R", "ɛɹ": "EH R", "ɪɹ": "IH R", "ʊɹ": "UH R", "oːɹ": "AO R",
    "eə": "EH R", "ɪə": "IH R", "ʊə": "UH R",
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY",
    "tʃ": "CH", "dʒ": "JH",
    "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH",
    "ɚ": "ER", "ɜː": "ER", "ɜ": "ER", "ɝ": "ER", "ɔː": "AO", "ɔ": "AO", "oː": "AO", "o": "OW",
    "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "iː": "IY", "i": "IY", "ʊ": "UH",
    "uː": "UW", "u": "UW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "x": "HH",
    "ç": "HH", "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɫ": "L", "ɹ": "R", "r": "R",
    "w": "W", "j": "Y", "ɾ": "T", "ʔ": "T", "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
}  # fmt: skip
_STRESS = str.maketrans("", "", "ˈˌ'")
_LONGEST = max(len(key) for key in IPA_TO_ARPABET)


def ipa_to_arpabet(phonemes: list[str]) -> list[str]:
    """Map espeak IPA phonemes to ARPAbet phones; unknown symbols are dropped."""
    text = "".join(p.translate(_STRESS) for p in phonemes)
    phones: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            arpabet = IPA_TO_ARPABET.get(text[i : i + size])
            if arpabet:
                phones.extend(arpabet.split())
                i += size
                break
        else:
            i += 1  # length marks, ties and symbols with no English phone
    return phones


def pronounce(word: str, synthesizer: EspeakSynthesizer) -> str | None:
    """An ARPAbet pronunciation ("P R AY S IH NG") for ``word``, or None."""
    phones = ipa_to_arpabet(synthesizer.phonemes(word))
    if not phones:
        logger.debug("no pronunciation for %r", word)
        return None
    return " ".join(phones)
