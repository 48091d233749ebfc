"""OpenAI-looking identifiers: a prefix and random base62 characters."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 22) -> str:
    """E.g. new_id("item") -> "item_C9xT...". Prefixes used: event, item, resp, call, sess, ..."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
