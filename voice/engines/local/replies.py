"""Spoken answers built from what a tool returned (the session runs the tools).

Tool output is JSON text whose exact shape belongs to the site knowledge base, so we read it
loosely: a list of results under any common key, titles and snippets under any common name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voice.engines.local.setters import GENERIC_WORDS, name_words
from voice.engines.local.text import clip, join_words, number_word

_LIST_KEYS = ("results", "pages", "items", "matches", "hits", "documents", "data", "topics",
              "sections", "suggestions", "available", "available_pages")  # fmt: skip
_TITLE_KEYS = ("title", "name", "page", "heading", "label", "path", "url")
_TEXT_KEYS = ("snippet", "summary", "excerpt", "description", "content", "text", "body",
              "answer", "info", "about", "message")  # fmt: skip
_PATH_KEYS = ("path", "url", "href", "slug")
_HOME_TITLES = {"home", "about", "about us", "welcome"}


@dataclass(frozen=True)
class Page:
    """A page a tool mentioned, remembered for "open the first one"."""

    title: str
    path: str | None = None
    summary: str = ""


def parse_output(output: str | None) -> Any:
    """The tool output as JSON data, or the raw text when it is not JSON."""
    if output is None:
        return None
    try:
        return json.loads(output)
    except ValueError:
        return output.strip()


def failure(data: Any) -> str | None:
    """The error a tool reported ("" when it failed without saying why), else None."""
    if not isinstance(data, dict):
        return None
    if data.get("error"):
        return str(data["error"]) if isinstance(data["error"], str) else ""
    if data.get("success") is False or data.get("ok") is False or data.get("found") is False:
        return str(data.get("message") or "")
    return None


def pages_in(data: Any) -> list[Page]:
    """Pages listed in the output, in order."""
    items = data if isinstance(data, list) else []
    if isinstance(data, dict):
        items = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), [])
    pages = []
    for item in items:
        if isinstance(item, str):
            pages.append(Page(item))
        elif isinstance(item, dict) and (title := _first(item, _TITLE_KEYS)):
            pages.append(Page(title, _first(item, _PATH_KEYS) or None, _first(item, _TEXT_KEYS)))
    return pages


def _first(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    return next((str(item[k]).strip() for k in keys if isinstance(item.get(k), str | int)), "")


def search_reply(query: str, data: Any) -> str:
    """What the search found: how many pages, their titles, the best one's text."""
    pages = pages_in(data)
    if not pages:
        if isinstance(data, str) and data:
            return f"Here is what I found about {query}: {clip(data)}"
        return f"I couldn't find anything on this site about {query}. Try other words."
    count = "one page" if len(pages) == 1 else f"{number_word(len(pages))} pages"
    reply = f"I found {count} about {query}: {join_words([p.title for p in pages[:3]])}."
    if pages[0].summary:
        reply += f" {pages[0].title} says: {clip(pages[0].summary)}"
    if not reply.endswith((".", "!", "?")):
        reply += "."
    return reply + " Say open the first one to go there."


def navigate_reply(page: str, data: Any) -> str:
    """Confirms the page the site is opening."""
    title = page
    if isinstance(data, dict):
        title = _first(data, ("title", "name", "page")) or page
    suffix = "" if title.lower().endswith("page") else " page"
    return f"Taking you to the {title}{suffix}."


def not_found_reply(page: str, data: Any) -> str:
    """The page does not exist; name the ones that do, when the tool listed them."""
    reply = f"I couldn't find a page called {page}."
    if known := [p.title for p in pages_in(data)[:5]]:
        reply += f" Pages I know: {join_words(known)}."
    return reply


def info_reply(topic: str | None, data: Any) -> str:
    """Site information, general or about one topic: the tool's own text, else its pages."""
    if isinstance(data, str):
        return clip(data) or f"I don't have any information about {topic or 'this site'}."
    own = clip(_first(data, _TEXT_KEYS)) if isinstance(data, dict) else ""
    pages = pages_in(data)
    if topic:
        if own or not pages:
            return own or f"I don't have any information about {topic}."
        reply = f"About {topic}, the {pages[0].title} page says: {clip(pages[0].summary)}"
        if others := [p.title for p in pages[1:3]]:
            reply += f" Related pages: {join_words(others)}."
        return reply
    parts = []
    if isinstance(data, dict) and (name := _first(data, ("name", "site_name", "siteName"))):
        parts.append(f"This is {name}.")
    home = next((p for p in pages if p.path == "/" or p.title.lower() in _HOME_TITLES), None)
    if own or (home and home.summary):
        parts.append(own or clip(home.summary if home else ""))
    if pages:
        total = data.get("page_count") if isinstance(data, dict) else None
        count = number_word(total if isinstance(total, int) else len(pages))
        titles = join_words([p.title for p in pages[:5]])
        parts.append(f"The site has {count} pages, including {titles}.")
    return " ".join(parts) or "I don't have any information about this site."


def setter_reply(tool: str, arguments: dict[str, Any]) -> str:
    """Confirms a client state change in words made from the tool's name and arguments."""
    thing = " ".join(w for w in name_words(tool) if w not in GENERIC_WORDS) or "that"
    if len(arguments) == 1:
        value = next(iter(arguments.values()))
        if isinstance(value, bool):
            return f"Okay, I turned {'on' if value else 'off'} the {thing}."
        return f"Okay, I set the {thing} to {value}."
    return f"Okay, I updated the {thing}."
