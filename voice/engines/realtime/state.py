"""Bookkeeping of the ``openai-realtime`` engine: responses as the session sees them, what a
server event means (``Translation``), the replayable conversation log, and which connection
failures are worth a reconnect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from voice.engines.base import BYTES_PER_MS, EngineEvent
from voice.upstream.errors import describe

# Close codes worth reconnecting after (the SDK's own list); 4000 / 1008 / 1000 are final.
RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
HISTORY_ENTRIES = 40  # user/assistant texts replayed into a fresh upstream session


@dataclass
class Translation:
    """What one input means: engine events to emit and client events to send, each in order."""

    events: list[EngineEvent] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    # The service confirmed the input buffer (``committed``): its audio needs no replay.
    committed: bool = False


@dataclass
class Answer:
    """One response as the session sees it: tool rounds continue it under the same id."""

    id: str
    upstream_id: str | None  # the upstream response now running; None between tool rounds
    continuing: bool = False  # response.create sent for the next round, not yet created
    cancel_sent: bool = False  # response.cancel sent, or the server VAD interrupted it
    texts: dict[str, str] = field(default_factory=dict)  # item id -> its text, in order
    usage: dict[str, Any] = field(default_factory=dict)
    pending_calls: set[str] = field(default_factory=set)  # tool calls without a result yet
    round_calls: int = 0  # tool calls in the current upstream response
    audio: list[list[Any]] = field(default_factory=list)  # [item id, bytes received], in order

    @property
    def text(self) -> str:
        return " ".join(t.strip() for t in self.texts.values() if t.strip())

    def add_text(self, item_id: str, delta: str) -> None:
        self.texts[item_id] = self.texts.get(item_id, "") + delta

    def add_audio(self, item_id: str, size: int) -> None:
        if not self.audio or self.audio[-1][0] != item_id:
            self.audio.append([item_id, 0])
        self.audio[-1][1] += size

    def add_usage(self, usage: dict[str, Any] | None) -> None:
        _add_counts(self.usage, usage or {})


def truncation_point(
    audio: list[list[Any]], played_ms: int, still_generating: bool
) -> tuple[str, int] | None:
    """(item id, audio_end_ms) where playback stopped, clamped to the audio received.

    None when everything received was played and nothing more is coming.
    """
    remaining = max(played_ms, 0)
    for index, (item_id, size) in enumerate(audio):
        item_ms = size // BYTES_PER_MS
        last = index == len(audio) - 1
        if remaining < item_ms or (last and still_generating):
            return item_id, min(remaining, item_ms)
        remaining -= item_ms
    return None


def _add_counts(total: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and isinstance(total.get(key, 0), int | float):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            _add_counts(total.setdefault(key, {}), value)
        elif key not in total:
            total[key] = value  # e.g. usage "type": "tokens"


class ConversationLog:
    """User and assistant texts in conversation order, to re-create after a reconnect.

    A spoken user turn takes its place when committed; its transcript fills it in later,
    even if the answer was logged first.
    """

    def __init__(self, history: Iterable[tuple[str, str]] = (), limit: int = HISTORY_ENTRIES):
        self.limit = limit
        self._entries: list[list[str]] = [[role, text] for role, text in history]
        self._pending: dict[str, list[str]] = {}

    @property
    def awaiting(self) -> bool:
        """True while a committed user utterance waits for its transcript."""
        return bool(self._pending)

    def reserve(self, item_id: str) -> None:
        if item_id not in self._pending:
            self._pending[item_id] = self._append("user", "")

    def fill(self, item_id: str, text: str) -> None:
        entry = self._pending.pop(item_id, None)
        if entry is not None:
            entry[1] = text

    def add(self, role: str, text: str) -> None:
        self._append(role, text)

    def forget_pending(self) -> None:
        self._pending.clear()

    def entries(self) -> list[tuple[str, str]]:
        kept = [(role, text) for role, text in self._entries if text.strip()]
        return kept[-self.limit :]

    def _append(self, role: str, text: str) -> list[str]:
        entry = [role, text]
        self._entries.append(entry)
        if len(self._entries) > 2 * self.limit:
            del self._entries[: len(self._entries) - self.limit]
        return entry


def connect_failure(exc: BaseException) -> tuple[bool, str]:
    """(retryable, message for the client) for a failed connect; never includes secrets."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        retryable = status in (408, 429) or status >= 500
        return retryable, f"The AI service refused the connection ({describe(exc)})."
    if isinstance(exc, ConnectionClosed):
        code = exc.rcvd.code if exc.rcvd is not None else 1006
        closed = f"The AI service closed the connection ({describe(exc)})."
        return code in RECOVERABLE_CLOSE_CODES, closed
    if isinstance(exc, OSError | TimeoutError | InvalidHandshake):
        return True, "The AI service could not be reached."
    return False, "The AI service connection failed."
