"""Seeded generators of what a hostile client sends: valid, near-valid and junk messages."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from tests.transports.strategies import FIELDS, JSON_TYPES, NUMBER_LITERALS, STREAM_TYPES

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 48000, "48000", "", "x" * 300, "\ud800", "a\udfffb",
    "\U0001f600", [], [1, "a"], {}, {"a": {"b": [None]}}, "NaN", 2**70,
]  # fmt: skip
JUNK_TEXT = ["", "{", "[]", "null", '{"type":', '{"type": 1}', "\x00", "}{", '"ping"', "{" * 3000]


def _value(rng: random.Random, depth: int = 0) -> Any:
    if depth < 2 and rng.random() < 0.2:
        return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return rng.choice(ODD_VALUES)


def _valid_json_message(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"type": "ping", "payload": {"n": rng.randint(0, 9)}},
            {"type": "config", "settings": {"audioFormat": "pcm16", "sampleRate": 16000}},
            {"type": "config", "context": {"page": {"title": f"Page {rng.randint(0, 999)}"}}},
            {"type": "start_listening"},
            {"type": "audio_chunk", "data": base64.b64encode(b"\0" * 640).decode()},
            {"type": "stop_listening"},
            {"type": "text", "text": "hello"},
        ]
    )


def _valid_stream_message(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {"type": "ping", "data": rng.randint(0, 9)},
            {"type": "voice_start", "metadata": {"codec": "pcm16", "sampleRate": 16000}},
            {"type": "voice_start", "metadata": {}},
            {"type": "voice_end"},
            {"type": "barge_in"},
        ]
    )


def text_message(rng: random.Random, types: list[str]) -> str:
    """One text frame: valid, a valid one bent out of shape, or junk."""
    valid = _valid_json_message if types is JSON_TYPES else _valid_stream_message
    roll = rng.random()
    if roll < 0.3:
        return json.dumps(valid(rng))
    if roll < 0.7:  # near-valid: a known type, fields of any type
        message = valid(rng)
        message[rng.choice(FIELDS)] = _value(rng)
        if rng.random() < 0.2:
            message["type"] = rng.choice([*types, "teleport", "", "auth"])
        return json.dumps(message)
    if roll < 0.8:  # a number JSON cannot carry back, spliced in
        literal = rng.choice(NUMBER_LITERALS)
        return f'{{"type": "{rng.choice(types)}", "payload": {literal}, "data": {literal}}}'
    if roll < 0.9:
        text = json.dumps(valid(rng))
        return text[: rng.randint(0, len(text))]
    return rng.choice(JUNK_TEXT)


def frame(rng: random.Random) -> bytes:
    """One binary frame: a good 20 ms frame, a wrong size, or Opus-looking junk."""
    roll = rng.random()
    if roll < 0.3:
        return b"\0" * rng.choice([640, 960, 1920])
    if roll < 0.6:
        return bytes([rng.choice([0x01, 0x78, 0xF8, 0xFB])]) + rng.randbytes(rng.randint(0, 80))
    return rng.randbytes(rng.choice([0, 1, 2, 7, 639, 641, 1921, 5000]))


def json_socket_messages(rng: random.Random, count: int) -> list[str | bytes]:
    return [
        frame(rng) if rng.random() < 0.05 else text_message(rng, JSON_TYPES) for _ in range(count)
    ]


def stream_socket_messages(rng: random.Random, count: int) -> list[str | bytes]:
    return [
        frame(rng) if rng.random() < 0.6 else text_message(rng, STREAM_TYPES) for _ in range(count)
    ]
