"""Speech recognition of synthesized phrases, and the vocabulary the hints add."""

from __future__ import annotations

import pytest

from tests.engines.local import HINTS, utterance_16k, word_overlap
from voice.engines.local.intents import example_sentences
from voice.engines.local.langmodel import build_arpa
from voice.engines.local.phonetics import ipa_to_arpabet, pronounce
from voice.engines.local.stt import Recognizer
from voice.engines.local.tts import get_synthesizer

PHRASES = (
    "take me to the pricing page",
    "search for security",
    "open the careers page",
    "what can you do",
    "tell me about the documentation",
)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    recognizer = Recognizer()
    recognizer.configure(example_sentences(HINTS))
    return recognizer


@pytest.mark.parametrize("phrase", PHRASES)
def test_synthesized_phrases_are_recognised(recognizer: Recognizer, phrase: str) -> None:
    recognizer.start()
    recognizer.feed(utterance_16k(phrase))
    heard = recognizer.finish()

    assert word_overlap(phrase, heard) >= 0.75, heard


def test_partial_hypotheses_grow_while_decoding(recognizer: Recognizer) -> None:
    audio = utterance_16k("show me the blog")
    recognizer.start()
    partials = []
    for offset in range(0, len(audio), 6400):  # 200 ms pieces
        recognizer.feed(audio[offset : offset + 6400])
        partials.append(recognizer.partial())
    final = recognizer.finish()

    assert partials[0] == "" or len(partials[0]) <= len(final)
    assert partials[-1]
    assert word_overlap("show me the blog", final) >= 0.75


def test_a_hint_missing_from_the_dictionary_is_added_and_heard() -> None:
    recognizer = Recognizer()
    recognizer.configure(example_sentences((*HINTS, "Vocalis")))
    recognizer.start()
    recognizer.feed(utterance_16k("tell me about vocalis"))

    assert "vocalis" in recognizer.finish().split()


def test_clearing_an_utterance_leaves_no_transcript(recognizer: Recognizer) -> None:
    recognizer.start()
    recognizer.feed(utterance_16k("open the careers page"))
    recognizer.abort()

    assert not recognizer.in_utterance
    assert recognizer.finish() == ""


def test_espeak_phonemes_map_to_arpabet() -> None:
    assert ipa_to_arpabet(["p", "ɹ", "ˈaɪ", "s", "ɪ", "ŋ"]) == "P R AY S IH NG".split()
    assert pronounce("kubernetes", get_synthesizer()) == "K UW B ER N EH T IY Z"


def test_the_site_model_is_a_valid_arpa_file() -> None:
    arpa = build_arpa(["open the pricing page", "open the blog"], [("the", 0.5), ("a", 0.5)])

    assert arpa.startswith("\\data\\\nngram 1=")
    assert "\\3-grams:" in arpa and arpa.rstrip().endswith("\\end\\")
    assert " open the pricing" in arpa
