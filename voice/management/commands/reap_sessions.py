"""Close sessions whose server process died (no heartbeat within VOICE_SESSION_STALE_SECONDS)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from voice.services.sessions import reap_stale_sessions


class Command(BaseCommand):
    help = "Close voice sessions left open by a server process that stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = reap_stale_sessions()
        self.stdout.write(f"closed {closed} stale session(s)")
