"""Debian's chromium for the browser tests: where it is and how it runs headless here."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("VOICE_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags chromium keeps calling hosts this machine cannot reach.
HEADLESS_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
