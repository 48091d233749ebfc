"""The traffic counters of one session, added to its row at each heartbeat."""

from __future__ import annotations

NAMES = ("frames_in", "frames_out", "audio_in_ms", "bad_frames", "messages_in", "messages_out")


class Counters(dict[str, int]):
    """Counts since the last heartbeat took them."""

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(NAMES, 0))

    def take(self) -> dict[str, int]:
        """The counts that are not zero; the counters start again from zero."""
        taken = {name: value for name, value in self.items() if value}
        for name in self:
            self[name] = 0
        return taken

    def give_back(self, taken: dict[str, int]) -> None:
        """Counts taken for a write that failed: the next one carries them."""
        for name, value in taken.items():
            self[name] += value
