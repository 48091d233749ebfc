"""Hypothesis strategies for what a hostile client may put on either wire."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Strings of any code point, lone surrogates (which no UTF-8 encoder can write) included.
strings = st.text(st.characters(exclude_categories=())) | st.builds(
    "{}{}{}".format, st.text(max_size=3), st.characters(categories=["Cs"]), st.text(max_size=3)
)
# What json.loads reads though JSON has no such number, or no encoder can write it back.
NUMBER_LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-0", "1" * 5000, "0.1e-400"]
HOLE = "\x00hole\x00"  # where a number literal is spliced into a message's text

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings
    | st.just(HOLE),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(strings.filter(lambda k: len(k) < 12), children, max_size=4)
    ),
    max_leaves=12,
)

JSON_TYPES = ["auth", "config", "start_listening", "stop_listening", "audio_chunk", "text", "ping"]
STREAM_TYPES = ["voice_start", "voice_end", "barge_in", "ping"]
FIELDS = [
    "token", "userId", "settings", "context", "data", "timestamp", "text", "payload",
    "metadata", "sampleRate", "codec", "channels", "language", "voiceId", "rate",
    "audioFormat", "outputFormat", "autoAddToMessages",
]  # fmt: skip


def near_valid(types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A message of a known (or nearly known) type whose fields are anything."""
    kind = st.sampled_from(types) | strings.filter(lambda t: len(t) < 16)
    fields = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
    nested = st.fixed_dictionaries(
        {
            "settings": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
            "metadata": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
        }
    )
    return st.builds(lambda t, f, n: {**f, **n, "type": t}, kind, fields, nested)


def texts(types: list[str]) -> st.SearchStrategy[str]:
    """Text frames: junk, any JSON, near-valid messages, and those cut short."""
    messages = st.builds(
        lambda m, n: json.dumps(m).replace(json.dumps(HOLE), n),
        near_valid(types),
        st.sampled_from(NUMBER_LITERALS),
    )
    return (
        strings
        | json_values.map(json.dumps)
        | messages
        | messages.flatmap(lambda m: st.integers(0, len(m)).map(lambda n: m[:n]))
    )
