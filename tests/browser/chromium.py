"""Debian's chromium for the browser tests: where it is, how it runs headless here, and what
happens when it or Playwright is missing (a skip, or a failure in CI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

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
# Set by .ci/run: there the browser tests must run, so a missing browser fails them.
REQUIRE_SWITCH = "VOICE_REQUIRE_BROWSER"


def require_browser() -> Path:
    """Chromium's path, once it and Playwright's package are both installed.

    Otherwise the test skips with the reason, or fails under VOICE_REQUIRE_BROWSER=1.
    """
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"needs Chromium at {CHROMIUM}: apt-get update && apt-get install -y chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("needs Playwright's Python package: .venv/bin/pip install playwright==1.65.2")
    return CHROMIUM


def _missing(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_SWITCH) == "1":
        pytest.fail(f"{reason} ({REQUIRE_SWITCH}=1: the browser tests must run here)")
    pytest.skip(reason)
