"""Delete rate-limit windows that have ended.

``hit()`` already prunes a bounded batch once a minute per process; this command clears any
backlog (after a burst of distinct keys, or a long stop) and suits a cron job.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voice.services.ratelimit import prune_expired


class Command(BaseCommand):
    help = "Delete expired rate-limit windows from the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="rows deleted per statement, so a large backlog never holds long locks",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while deleted := prune_expired(batch=max(1, options["batch_size"])):
            total += deleted
        self.stdout.write(f"Deleted {total} expired rate-limit windows.")
