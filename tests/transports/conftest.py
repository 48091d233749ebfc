"""Fixtures of the socket tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.transports.flood import FAST_FLOOD


@pytest.fixture
def fast_flood(settings: Any) -> None:
    """A small message rate and grace, so a test's flood outruns its refills within a second."""
    for name, value in FAST_FLOOD.items():
        setattr(settings, name, value)
