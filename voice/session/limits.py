"""Per-user limits inside a live session: utterances and daily audio (PROTOCOL.md section 7)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from voice.services import ratelimit

Check = Callable[[int | None, str | None], ratelimit.Decision]


class Admission:
    """Asks the rate-limit ledger before each utterance and for the audio streamed.

    After a refusal the session refuses locally until the window resets, so a client that keeps
    talking costs no further database writes and hears about it once.
    """

    def __init__(
        self, user_id: int | None, client_ip: str | None, on_refused: Callable[[], Awaitable[None]]
    ) -> None:
        self.user_id = user_id
        self.client_ip = client_ip
        self._on_refused = on_refused
        self._refused_until = 0.0  # monotonic seconds
        self.audio_ms = 0  # streamed so far
        self._charged_ms = 0

    def refusing(self) -> bool:
        return time.monotonic() < self._refused_until

    async def admit(self, check: Check) -> bool:
        """Apply a limit; on refusal tell the client and refuse until it resets."""
        if self.refusing():
            return False
        decision = await database_sync_to_async(check)(self.user_id, self.client_ip)
        if decision.allowed:
            return True
        self._refused_until = time.monotonic() + decision.retry_after
        await self._on_refused()
        return False

    async def utterance(self) -> bool:
        return await self.admit(ratelimit.check_utterance)

    async def charge_audio(self) -> None:
        """Spend the audio streamed since the last charge from the daily allowance."""
        spent_ms = self.audio_ms - self._charged_ms
        if spent_ms <= 0:
            return
        self._charged_ms = self.audio_ms
        await self.admit(
            lambda user_id, ip: ratelimit.spend_audio_seconds(user_id, ip, spent_ms / 1000)
        )
