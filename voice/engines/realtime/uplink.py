"""User audio on its way to a Realtime session, kept so that an utterance survives a reconnect.

Audio the service had not confirmed (``input_audio_buffer.committed``) when its socket dropped,
and audio spoken while the engine reconnects, is sent again to the new socket (``replay``).
``Uplink`` only counts and cuts bytes; the engine sends what it returns.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from voice.engines.base import BYTES_PER_MS

MIN_COMMIT_MS = 100  # the service rejects a commit of less audio
REPLAY_MS = 10_000  # at most this much user audio is sent again after a reconnect
IDLE_REPLAY_MS = 1_000  # with server VAD and nobody speaking, only a lead-in is worth resending
REPLAY_APPEND_MS = 1_000  # resent audio goes out in larger appends


class Commit(Enum):
    """What a commit of the user's utterance does now."""

    SEND = "send"  # commit and ask for the answer
    LATER = "later"  # after the reconnect, with the audio sent again
    EMPTY = "empty"  # too little audio, or no socket: nothing to answer


@dataclass
class Replay:
    """What a fresh socket is sent after its configuration, and how much audio that is."""

    events: list[dict[str, Any]] = field(default_factory=list)
    due: int = 0  # bytes of user audio the socket was due
    sent: int = 0  # bytes of it sent (older than REPLAY_MS is lost)


def append_event(pcm: bytes) -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}


class Uplink:
    """The user audio of one Realtime conversation: appends now, replays after a drop."""

    def __init__(self, append_ms: int) -> None:
        self.append_bytes = max(1, append_ms) * BYTES_PER_MS
        self.dropped_ms = 0  # audio that could not be sent, even after a reconnect
        self.uncommitted_bytes = 0  # sent since the last commit
        # Audio, and a commit, the service has not yet confirmed with `committed`: a new socket
        # must be sent them again if this one drops.
        self.unconfirmed_bytes = 0
        self.commit_unconfirmed = False
        self.commit_after_reconnect = False
        self.respond_after_reconnect = False  # typed text waits for the replayed conversation
        self._pending = bytearray()  # less than one append so far
        self._recent = bytearray()  # at least the last REPLAY_MS of user audio
        self._replay_bytes = 0  # how much of it the next socket must be sent

    def add(self, pcm: bytes, *, connected: bool, lost: bool) -> list[bytes]:
        """Take user audio; returns the appends to send now (none without a socket).

        Without a socket the audio waits for the next one, or is dropped when there will be
        none (``lost``).
        """
        self._recent += pcm
        if len(self._recent) > 2 * REPLAY_MS * BYTES_PER_MS:  # trimmed now and then
            del self._recent[: -REPLAY_MS * BYTES_PER_MS]
        if not connected:
            if lost:
                self.dropped_ms += len(pcm) // BYTES_PER_MS
            else:
                self._replay_bytes += len(pcm)
            return []
        self._pending += pcm
        self.uncommitted_bytes += len(pcm)
        self.unconfirmed_bytes += len(pcm)
        chunks = []
        while len(self._pending) >= self.append_bytes:
            chunks.append(bytes(self._pending[: self.append_bytes]))
            del self._pending[: self.append_bytes]
        return chunks

    def rest(self) -> bytes:
        """The audio short of a whole append, to send before a commit."""
        rest = bytes(self._pending)
        self._pending.clear()
        return rest

    def clear(self) -> None:
        """A new utterance starts: nothing before it is sent again."""
        self._pending.clear()
        self.uncommitted_bytes = self.unconfirmed_bytes = self._replay_bytes = 0
        self.commit_unconfirmed = self.commit_after_reconnect = False

    def commit(self, *, connected: bool, failed: bool) -> Commit:
        """The user's utterance ended: decide what its commit does."""
        if not connected and self._replay_bytes and not failed:
            self.commit_after_reconnect = True  # answered once the audio is sent again
            return Commit.LATER
        if not connected or self.uncommitted_bytes < MIN_COMMIT_MS * BYTES_PER_MS:
            return Commit.EMPTY
        self.uncommitted_bytes = 0
        self.commit_unconfirmed = True  # until `committed`: a drop before it commits again
        return Commit.SEND

    def confirm(self) -> None:
        """The service confirmed its input buffer: none of it needs sending again."""
        self.uncommitted_bytes = self.unconfirmed_bytes = 0
        self.commit_unconfirmed = False

    def lose(self, *, idle: bool) -> None:
        """The socket dropped and its input buffer with it: plan what the next one is sent.

        ``idle``: the server VAD hears nobody speaking, so only a lead-in is worth resending.
        """
        self._pending.clear()
        unconfirmed = self.unconfirmed_bytes
        if idle and not self.commit_unconfirmed:
            unconfirmed = min(unconfirmed, IDLE_REPLAY_MS * BYTES_PER_MS)
        self._replay_bytes = unconfirmed
        self.commit_after_reconnect = self.commit_unconfirmed
        self.uncommitted_bytes = self.unconfirmed_bytes = 0
        self.commit_unconfirmed = False

    def replay(self) -> Replay:
        """The user audio a fresh socket is due, then the commit and answer it was waiting for."""
        due = self._replay_bytes
        kept = min(due, len(self._recent), REPLAY_MS * BYTES_PER_MS)
        audio = self._recent[len(self._recent) - kept :]
        step = REPLAY_APPEND_MS * BYTES_PER_MS
        replay = Replay(due=due, sent=len(audio))
        replay.events = [
            append_event(bytes(audio[i : i + step])) for i in range(0, len(audio), step)
        ]
        respond = self.respond_after_reconnect
        if self.commit_after_reconnect and len(audio) >= MIN_COMMIT_MS * BYTES_PER_MS:
            replay.events.append({"type": "input_audio_buffer.commit"})
            respond = True
        if respond:
            replay.events.append({"type": "response.create"})
        return replay

    def resume(self, replay: Replay) -> bool:
        """The new socket is live after ``replay``: queue what was spoken since.

        Returns True when a commit was waiting but too little audio was left to answer.
        """
        self.dropped_ms += (replay.due - replay.sent) // BYTES_PER_MS  # older than REPLAY_MS
        late = min(self._replay_bytes - replay.due, len(self._recent))
        waiting = self.commit_after_reconnect
        committed = waiting and replay.sent >= MIN_COMMIT_MS * BYTES_PER_MS
        self._replay_bytes = 0
        self.respond_after_reconnect = self.commit_after_reconnect = False
        self.uncommitted_bytes = 0 if committed else replay.sent
        self.unconfirmed_bytes, self.commit_unconfirmed = replay.sent, committed
        if late > 0:  # spoken while the socket was being set up: sent with the next append
            self._pending += self._recent[len(self._recent) - late :]
            self.uncommitted_bytes += late
            self.unconfirmed_bytes += late
        return waiting and not committed
