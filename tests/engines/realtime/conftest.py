"""The fake OpenAI server each Realtime engine test talks to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.fake_openai.openai_server import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
