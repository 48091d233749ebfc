"""Word-level text helpers shared by the recogniser vocabulary and the responder."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    "a an the and or but of to in on at for with about from by as into is are was were be been "
    "do does did can could would should will shall may might must have has had i me my we our "
    "you your it its this that these those there here what which who whom how when where why "
    "please tell show find search look up get give let lets let's want like need some any "
    "much many more most very just so also if then than not no yes okay ok um uh well really "
    "kind sort thing things something anything help know".split()
)
_FILLERS = ("please", "um", "uh", "okay", "ok", "so", "well", "can you", "could you",
            "would you", "will you", "i want you to", "i need you to", "just")  # fmt: skip
_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NON_WORD = re.compile(r"[^a-z0-9'/ ]+")


def normalize(text: str) -> str:
    """Lowercase words separated by single spaces; punctuation dropped ("/" kept for paths)."""
    text = text.lower().replace("&", " and ").replace("-", " ").replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", text).replace(" '", " ").replace("' ", " ").split())


def strip_fillers(words: str) -> str:
    """Drop politeness and hesitation at either end ("um, please open pricing, thanks")."""
    changed = True
    while changed and words:
        changed = False
        for filler in _FILLERS:
            if words == filler:
                return ""
            if words.startswith(filler + " "):
                words, changed = words[len(filler) + 1 :], True
            if words.endswith(" " + filler):
                words, changed = words[: -len(filler) - 1], True
    return words.removesuffix(" thanks").removesuffix(" thank you").strip()


def content_words(words: str) -> list[str]:
    """The words that carry meaning (for search queries and tool matching)."""
    return [w for w in words.split() if w not in STOPWORDS and len(w) > 1]


def stem(word: str) -> str:
    """A crude stem so "pages" meets "page" and "themes" meets "theme"."""
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def number_word(n: int) -> str:
    """Small counts as words, which read better aloud ("three pages")."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def parse_number(words: str) -> float | None:
    """The first number in ``words``, written as digits or as a small number word."""
    for word in words.split():
        if re.fullmatch(r"\d+(\.\d+)?", word):
            return float(word)
        if word in _NUMBERS:
            return float(_NUMBERS.index(word))
    return None


def join_words(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentences(text: str) -> list[str]:
    """Split a reply into sentences, so speech can start after the first one."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def clip(text: str, limit: int = 220) -> str:
    """Shorten page text to about ``limit`` characters, ending at a sentence or word."""
    text = " ".join(re.sub(r"<[^>]+>|https?://\S+|[*#`_>|\[\]]", " ", text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 3 else cut.rsplit(" ", 1)[0] + "..."
