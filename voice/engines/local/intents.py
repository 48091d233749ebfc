"""What the user wants, from their words: small talk, or a site tool and its arguments.

The same phrase lists feed the recogniser's language model (``example_sentences``), so what
the engine listens for and what it understands stay one list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from voice.engines.local.setters import match_setter, setter_sentences
from voice.engines.local.text import content_words, normalize, strip_fillers

SEARCH, NAVIGATE, SITE_INFO = "search_site", "navigate_to_page", "get_site_info"
# The site tools an intent may call: any other tool offered is a client state setter.
INTENT_TOOL_NAMES = (SEARCH, NAVIGATE, SITE_INFO)

NAVIGATE_PREFIXES = (
    "take me to", "bring me to", "go back to", "go to", "navigate to", "open up", "open",
    "show me", "bring up", "jump to", "head to", "visit", "let's go to", "lets go to",
    "i want to go to", "i want to see", "i'd like to see", "i would like to see",
    "i'd like to go to", "i would like to go to", "let me see",
)  # fmt: skip
SEARCH_PREFIXES = (
    "search the site for", "search the website for", "search this site for", "search for",
    "search", "look for", "look up", "find me", "find", "do you have anything about",
    "do you have anything on", "do you have information about", "do you have pages about",
    "is there anything about", "is there a page about", "is there a page on",
    "are there pages about", "where can i find", "where do i find", "i'm looking for",
    "i am looking for",
)  # fmt: skip
INFO_PREFIXES = (
    "tell me more about", "tell me about", "what is", "what's", "what are", "who is", "who are",
    "explain", "describe", "give me information about", "information about",
)  # fmt: skip
SELF_TOPICS = {
    "", "this site", "the site", "this website", "the website", "you", "your company", "it",
    "the company", "this company", "yourself", "your site", "your website", "this page",
    "this website about", "this site about", "the site about", "the website about", "this",
}  # fmt: skip
HELP = {
    "help", "help me", "what can you do", "what can i say", "what can i ask", "commands",
    "how does this work", "what do you do", "what are you able to do", "what are my options",
}  # fmt: skip
GREETINGS = {"hello", "hi", "hey", "hiya", "howdy", "greetings", "good morning", "how are you",
             "good afternoon", "good evening", "hello there", "hi there", "hey there"}  # fmt: skip
_LONGEST_FIRST_GREETINGS = sorted(GREETINGS, key=len, reverse=True)  # "hello there", "hello"
THANKS = {"thanks", "thank you", "thank you very much", "thanks a lot", "cheers",
          "appreciate it", "great thanks", "thank you so much", "many thanks"}  # fmt: skip
GOODBYES = {"bye", "goodbye", "bye bye", "see you", "see you later", "that's all",
            "that is all", "good night"}  # fmt: skip
# "articles about security" -> "security": the query is the topic, not the kind of page.
_TOPIC_LEAD = re.compile(
    r"^(?:(?:some|any|the|a|an)\s+)?(?:articles?|pages?|posts?|information|info|docs|"
    r"anything|something|stuff|results?)\s+(?:about|on|for|regarding|related to)\s+"
)
_PAGE_WORDS = re.compile(r"^(?:the|a|an|your|our)\s+|\s+(?:page|section|tab|screen|please)$")
_FOLLOW_UP = re.compile(
    r"^(?:open|go to|go|take me to|take me|show me|navigate to)?\s*(?:it|there|that|that one|"
    r"that page|"
    r"the (?P<nth>first|second|third|fourth|fifth|last) (?:one|result|page|link))$"
)
_QUESTION_START = ("how", "what", "where", "when", "why", "which", "who", "can", "do", "does",
                   "is", "are", "will", "should", "could", "would")  # fmt: skip
_REQUEST_START = ("can you", "could you", "would you", "help me", "i need", "i want", "how do i")


@dataclass(frozen=True)
class Intent:
    """``kind``: empty, greeting, thanks, goodbye, help, tool, follow_up or unknown."""

    kind: str
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    ordinal: int = 0  # follow_up: which remembered result (0 = first, -1 = last)


def understand(text: str, hints: tuple[str, ...] = (), tools: tuple[Any, ...] = ()) -> Intent:
    """Map one utterance (spoken or typed) onto an ``Intent``."""
    raw = normalize(text)
    words = strip_fillers(raw)
    if not words:
        return Intent("empty")
    greeted = True
    while words and greeted:  # "hi, open pricing": greet, then do the rest
        greeted = False
        for greeting in _LONGEST_FIRST_GREETINGS:
            if words == greeting or words.startswith(greeting + " "):
                words, greeted = strip_fillers(words[len(greeting) :]), True
                break
    if not words:
        return Intent("greeting")
    if words in THANKS:
        return Intent("thanks")
    if words in GOODBYES:
        return Intent("goodbye")
    if words in HELP:
        return Intent("help")
    if follow_up := _FOLLOW_UP.match(words):
        nth = follow_up["nth"] or "first"
        ordinal = (
            ["first", "second", "third", "fourth", "fifth"].index(nth) if nth != "last" else -1
        )
        return Intent("follow_up", ordinal=ordinal)
    if setter := match_setter(words, [t for t in tools if t.name not in INTENT_TOOL_NAMES]):
        return Intent("tool", setter[0], setter[1])
    return _site_intent(words, hints, asking=raw.startswith(_REQUEST_START))


def _site_intent(words: str, hints: tuple[str, ...], asking: bool) -> Intent:
    if rest := _after(words, NAVIGATE_PREFIXES):
        topic = _TOPIC_LEAD.sub("", rest)
        if topic != rest:  # "show me articles about x" is a search
            return Intent("tool", SEARCH, {"query": topic})
        return Intent("tool", NAVIGATE, _page_arguments(rest))
    if rest := _after(words, SEARCH_PREFIXES):
        return Intent("tool", SEARCH, {"query": _TOPIC_LEAD.sub("", rest)})
    if (rest := _after(words, INFO_PREFIXES)) is not None:
        topic = _PAGE_WORDS.sub("", rest).removesuffix(" about")
        if topic in SELF_TOPICS or rest in SELF_TOPICS:
            return Intent("tool", SITE_INFO, {})
        return Intent("tool", SITE_INFO, {"topic": topic})
    bare = _PAGE_WORDS.sub("", words)
    pages = {normalize(h) for h in hints}
    if bare in pages:  # just a page name: go there
        return Intent("tool", NAVIGATE, {"page": bare})
    # "... the pricing page" with the verb misheard still names a page of the site.
    if named := next((p for p in pages if words.endswith(f" {p} page")), None):
        return Intent("tool", NAVIGATE, {"page": named})
    asking = asking or words.startswith(_REQUEST_START) or words.split()[0] in _QUESTION_START
    if asking and (query := " ".join(content_words(words))):  # answer questions from the pages
        return Intent("tool", SEARCH, {"query": query})
    return Intent("unknown")


def _after(words: str, prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        if words == prefix:
            return ""
        if words.startswith(prefix + " "):
            return words[len(prefix) + 1 :].strip()
    return None


def _page_arguments(target: str) -> dict[str, str]:
    page = target
    while (shorter := _PAGE_WORDS.sub("", page)) != page:
        page = shorter
    path = next((w for w in target.split() if w.startswith("/")), None)
    return {"page": page, "path": path} if path else {"page": page}


NAVIGATE_TEMPLATES = (
    "take me to the {}", "take me to the {} page", "go to the {} page", "open the {} page",
    "show me the {}", "navigate to the {} page", "{}",
)  # fmt: skip
SEARCH_TEMPLATES = ("search for {}", "search the site for {}", "find {}", "look up {}",
                    "find articles about {}", "do you have anything about {}")  # fmt: skip
INFO_TEMPLATES = ("tell me about {}", "tell me about the {}", "what is the {}", "what is {}")


def example_sentences(hints: tuple[str, ...] = (), tools: tuple[Any, ...] = ()) -> list[str]:
    """Sentences the responder understands, filled with the site's hints (for the LM)."""
    sentences = [*HELP, *GREETINGS, *THANKS, *GOODBYES]
    sentences += [f"{p} this website" for p in ("tell me about", "what is")]
    sentences += ["what is this website about", "tell me about your company", "take me there"]
    topics = [normalize(h) for h in hints] or ["the home page"]
    for template in NAVIGATE_TEMPLATES + SEARCH_TEMPLATES + INFO_TEMPLATES:
        sentences += [template.format(topic) for topic in topics if topic]
    sentences += setter_sentences([t for t in tools if t.name not in INTENT_TOOL_NAMES])
    return [s for s in sentences if s]
