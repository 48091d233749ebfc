"""Fixtures of the fake's tests: a running fake and an SDK client pointed at it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from devtools.fake_openai.openai_server import FakeOpenAI

ORDER_TOOL = {
    "type": "function",
    "name": "lookup_order",
    "description": "Find an order by number",
    "parameters": {"type": "object", "properties": {"order_no": {"type": "string"}}},
}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url, max_retries=0) as sdk:
        yield sdk


async def events_until(conn: Any, last_type: str, within: float = 5.0) -> list[Any]:
    """Receive server events up to and including the first of type `last_type`."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            seen.append(await conn.recv())
            if seen[-1].type == last_type:
                return seen


async def speak(conn: Any, pcm: bytes, chunk_ms: int = 100) -> None:
    """Append PCM16 24 kHz audio in chunks, as a client streaming a microphone would."""
    step = 48 * chunk_ms
    for i in range(0, len(pcm), step):
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + step]).decode())


def without_deltas(events: list[Any]) -> list[str]:
    return [e.type for e in events if not e.type.endswith(".delta")]
