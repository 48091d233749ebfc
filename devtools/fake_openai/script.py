"""How the fake model decides what to say: scripted replies and keyword-triggered tool calls."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .config import FakeConfig

_WORD = re.compile(r"\s*\S+")


@dataclass
class TextPlan:
    text: str


@dataclass
class ToolCallPlan:
    name: str
    arguments: dict[str, Any]


def plan_turn(
    config: FakeConfig,
    user_text: str,
    tool_output: tuple[str, str] | None,
    offered_tools: Collection[str],
) -> TextPlan | ToolCallPlan:
    """Call a tool when a rule's keyword is in the user's words and no output answers it yet.

    `tool_output` is (tool name, output) of a call answered since the latest user message.
    Only offered tools are called, as a real model can only call what it was given.
    """
    if tool_output is not None:
        name, output = tool_output
        if config.tool_reply is not None:
            return TextPlan(config.tool_reply.format(output=output, name=name))
        return TextPlan(config.next_reply())
    lowered = user_text.lower()
    for keyword, tool, arguments in list(config.tool_rules):
        if keyword.lower() in lowered and tool in offered_tools:
            return ToolCallPlan(tool, dict(arguments))
    return TextPlan(config.next_reply())


def split_words(text: str) -> list[str]:
    """Token-like pieces that concatenate back to `text`: "Sure.", " Here", " is", ..."""
    return _WORD.findall(text) or [text]


def split_fixed(text: str, size: int) -> list[str]:
    """Fragments of at most `size` characters (function-call argument deltas)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def count_tokens(text: str) -> int:
    """Roughly four characters per token, as OpenAI's rule of thumb."""
    return math.ceil(len(text) / 4) if text else 0
