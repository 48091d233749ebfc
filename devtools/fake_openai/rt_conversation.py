"""A Realtime conversation: ordered items, their audio, and what the fake model "heard"."""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass, field
from typing import Any

from .ids import new_id
from .rt_errors import EventError

ROOT = "root"  # previous_item_id that inserts at the start
_PART_TYPES = {
    "user": {"input_text", "input_audio", "input_image"},
    "system": {"input_text"},
    "assistant": {"output_text"},  # the service refuses injected assistant audio
}


@dataclass
class ItemAudio:
    data: bytearray  # grows delta by delta for assistant items
    bytes_per_ms: int

    @property
    def ms(self) -> float:
        return len(self.data) / self.bytes_per_ms


@dataclass
class Conversation:
    """Items in order. Audio bytes are kept apart so item events stay small."""

    id: str = field(default_factory=lambda: new_id("conv"))
    items: list[dict[str, Any]] = field(default_factory=list)
    audio: dict[str, ItemAudio] = field(default_factory=dict)
    heard: dict[str, str] = field(default_factory=dict)  # user audio item id -> its "words"

    def last_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def get(self, item_id: str) -> dict[str, Any] | None:
        return next((item for item in self.items if item["id"] == item_id), None)

    def add(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Insert after `previous_item_id` (None = at the end); returns the actual predecessor."""
        if previous_item_id is None:
            previous = self.last_id()
            self.items.append(item)
            return previous
        if previous_item_id == ROOT:
            self.items.insert(0, item)
            return None
        index = next((i for i, it in enumerate(self.items) if it["id"] == previous_item_id), None)
        if index is None:
            raise EventError(
                f"Previous item with id '{previous_item_id}' not found.", param="previous_item_id"
            )
        self.items.insert(index + 1, item)
        return previous_item_id

    def remove(self, item_id: str) -> bool:
        item = self.get(item_id)
        if item is None:
            return False
        self.items.remove(item)
        self.audio.pop(item_id, None)
        return True

    def model_input(self, given: Any) -> list[dict[str, Any]]:
        """The items the model sees: a response's `input` when it gives one, else every item."""
        if given is None:
            return list(self.items)
        items = []
        for item in given:
            if isinstance(item, dict) and item.get("type") == "item_reference":
                found = self.get(item.get("id", ""))
                items.extend([found] if found else [])
            elif isinstance(item, dict):
                items.append(item)
        return items

    def with_audio(self, item: dict[str, Any]) -> dict[str, Any]:
        """A copy of the item with base64 audio in its audio parts (conversation.item.retrieved)."""
        out = copy.deepcopy(item)
        audio = self.audio.get(item["id"])
        for part in out.get("content", []):
            if part.get("type") in ("input_audio", "output_audio") and audio:
                part["audio"] = base64.b64encode(audio.data).decode()
        return out


def assistant_item(kind: str, **fields: Any) -> dict[str, Any]:
    """A new output item of a response, in progress until the response finishes it."""
    return {
        "id": new_id("item"),
        "object": "realtime.item",
        "type": kind,
        "status": "in_progress",
        **fields,
    }


def user_text(items: list[dict[str, Any]], heard: dict[str, str]) -> str:
    """The words of the latest user message: its text parts, or what its audio said."""
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            words = []
            for part in item.get("content", []):
                if part.get("type") == "input_text":
                    words.append(part.get("text") or "")
                elif part.get("type") == "input_audio":
                    words.append(part.get("transcript") or heard.get(item["id"], ""))
            return " ".join(words)
    return ""


def answered_tool(items: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(name, output) of the last function_call_output after the latest user message."""
    names: dict[str, str] = {}
    answer: tuple[str, str] | None = None
    for item in items:
        if item.get("type") == "message" and item.get("role") == "user":
            answer = None
        elif item.get("type") == "function_call":
            names[item.get("call_id", "")] = item.get("name", "")
        elif item.get("type") == "function_call_output":
            answer = (names.get(item.get("call_id", ""), ""), str(item.get("output", "")))
    return answer


def client_item(raw: Any, bytes_per_ms: int) -> tuple[dict[str, Any], ItemAudio | None]:
    """Validate a conversation.item.create item; return the stored item and any input audio."""
    if not isinstance(raw, dict):
        raise EventError(
            "Missing required parameter: 'item'.", "missing_required_parameter", "item"
        )
    kind = raw.get("type")
    item: dict[str, Any] = {
        "id": raw.get("id") or new_id("item"),
        "object": "realtime.item",
        "type": kind,
        "status": "completed",
    }
    if kind == "message":
        item["role"], item["content"], audio = _message_content(raw, bytes_per_ms)
        return item, audio
    required = {
        "function_call": ("call_id", "name", "arguments"),
        "function_call_output": ("call_id", "output"),
    }
    if kind not in required:
        raise EventError(
            f"Invalid value: '{kind}'. Supported values are: 'message', 'function_call', "
            "'function_call_output'.",
            param="item.type",
        )
    for name in required[kind]:
        if not isinstance(raw.get(name), str):
            raise EventError(
                f"Missing required parameter: 'item.{name}'.",
                "missing_required_parameter",
                f"item.{name}",
            )
        item[name] = raw[name]
    return item, None


def _message_content(
    raw: dict[str, Any], bytes_per_ms: int
) -> tuple[str, list[dict[str, Any]], ItemAudio | None]:
    role = raw.get("role")
    if role not in _PART_TYPES:
        raise EventError(f"Invalid value: '{role}'.", param="item.role")
    content, audio = [], None
    for i, part in enumerate(raw.get("content") or []):
        part_type = part.get("type") if isinstance(part, dict) else None
        if part_type not in _PART_TYPES[role]:
            raise EventError(
                f"Invalid value: '{part_type}'. Supported values for role '{role}' are: "
                f"{sorted(_PART_TYPES[role])}.",
                param=f"item.content[{i}].type",
            )
        if part_type == "input_audio":
            data = decode_b64(part.get("audio"), f"item.content[{i}].audio")
            audio = ItemAudio(bytearray(data), bytes_per_ms)
            content.append({"type": "input_audio", "transcript": part.get("transcript")})
        else:
            content.append(copy.deepcopy(part))
    return role, content, audio


def decode_b64(value: Any, param: str) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise EventError(f"Invalid '{param}': expected base64-encoded audio.", param=param) from exc
