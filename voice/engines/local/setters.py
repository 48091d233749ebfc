"""Client state setters: pick the tool the user's words point at and fill its arguments.

A setter arrives as a ``ToolSpec`` (name, description, JSON-schema parameters). Words of the
name count double, words of the description once, an enum value heard counts double; a tool
whose required arguments cannot be filled from the words is never chosen.
"""

from __future__ import annotations

import re
from typing import Any

from voice.engines.local.text import content_words, normalize, parse_number, stem

MIN_SCORE = 3  # e.g. one name word and one enum value, or three description words
GENERIC_WORDS = {
    "set",
    "update",
    "change",
    "toggle",
    "state",
    "setter",
    "value",
    "client",
    "app",
    "enabled",
    "is",
}
_ON = {"on", "enable", "enabled", "show", "open", "start", "activate", "yes", "true"}
_OFF = {"off", "disable", "disabled", "hide", "close", "stop", "deactivate", "no", "false"}


def name_words(name: str) -> list[str]:
    """ "setThemeMode" / "ui.theme_mode" -> ["set", "theme", "mode"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[\s_.:/\-]+", spaced.lower()) if w]


def match_setter(words: str, tools: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """The best matching tool's name and arguments, or None when nothing matches well."""
    heard = {stem(w) for w in words.split()}
    best: tuple[int, str, dict[str, Any]] | None = None
    for tool in tools:
        names = {stem(w) for w in name_words(tool.name)} - GENERIC_WORDS
        described = {stem(w) for w in content_words(normalize(tool.description))} - names
        filled = _fill_arguments(words, tool.parameters or {})
        if filled is None:
            continue
        arguments, argument_score = filled
        score = 2 * len(heard & names) + len(heard & described) + argument_score
        if score >= MIN_SCORE and (best is None or score > best[0]):
            best = (score, tool.name, arguments)
    return (best[1], best[2]) if best else None


def _fill_arguments(words: str, schema: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
    """Arguments found in ``words`` and how strongly they point at this tool."""
    arguments: dict[str, Any] = {}
    score = 0
    heard = set(words.split())
    for prop, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type")
        if enum := spec.get("enum"):
            value = next((v for v in enum if f" {normalize(str(v))} " in f" {words} "), None)
            if value is not None:
                arguments[prop], score = value, score + 2
        elif kind == "boolean" and heard & (_ON | _OFF):
            arguments[prop], score = bool(heard & _ON) and not heard & _OFF, score + 1
        elif kind in ("number", "integer") and (number := parse_number(words)) is not None:
            arguments[prop] = int(number) if kind == "integer" else number
            score += 1
        elif kind == "string" and " to " in f" {words} ":
            arguments[prop] = f" {words}".rsplit(" to ", 1)[1].strip()
    if any(req not in arguments for req in schema.get("required") or ()):
        return None
    return arguments, score


def setter_sentences(tools: list[Any]) -> list[str]:
    """Ways to ask for each setter, for the recogniser's language model."""
    sentences: list[str] = []
    for tool in tools:
        thing = " ".join(w for w in name_words(tool.name) if w not in GENERIC_WORDS)
        sentences.append(normalize(tool.description.split(".")[0]))
        for verb in (
            "set the",
            "change the",
            "turn on the",
            "turn off the",
            "show the",
            "hide the",
        ):
            sentences.append(f"{verb} {thing}")
        for spec in ((tool.parameters or {}).get("properties") or {}).values():
            for value in spec.get("enum") or ():
                value = normalize(str(value))
                sentences += [f"set the {thing} to {value}", f"switch to {value}", f"{value} mode"]
                sentences += [f"change the {thing} to {value}", f"make it {value}"]
    return [s for s in sentences if s.strip()]
