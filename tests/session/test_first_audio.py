"""What keeps the first audio of a reply early: speech requested and relayed as it comes.

The speech queue runs the real SDK against the fake of OpenAI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from voice.engines.pipeline.tts import MAX_CHUNK_BYTES, SpeechQueue

FIRST = "We open at nine every morning."
SECOND = "We close at five in the evening."


@pytest.fixture
async def client(fake_openai: Any) -> AsyncIterator[AsyncOpenAI]:
    client = AsyncOpenAI(api_key=fake_openai.api_key, base_url=fake_openai.base_url)
    yield client
    await client.close()


async def spoken(speech: SpeechQueue) -> list[bytes]:
    return [chunk async for chunk in speech.audio()]


async def test_speech_is_relayed_as_it_arrives_not_in_fixed_blocks(
    fake_openai: Any, client: AsyncOpenAI
) -> None:
    fake_openai.config.tts_chunk_bytes = 4000
    fake_openai.config.tts_chunk_interval_ms = 30
    speech = SpeechQueue(client, "gpt-4o-mini-tts", "alloy", 1.0)

    speech.say(FIRST)
    speech.end()
    chunks = await spoken(speech)

    # Each piece the service sends is passed on at once, not held back to fill a larger block.
    assert len(chunks[0]) <= 4000
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    assert sum(map(len, chunks)) == pytest.approx(len(FIRST) * 0.060 * 48_000, abs=2)


async def test_a_large_read_is_relayed_in_pieces_of_at_most_100_ms(
    fake_openai: Any, client: AsyncOpenAI
) -> None:
    fake_openai.config.tts_chunk_bytes = 48_000  # a second of speech in one piece
    speech = SpeechQueue(client, "gpt-4o-mini-tts", "alloy", 1.0)

    speech.say(FIRST)
    speech.end()
    chunks = await spoken(speech)

    assert max(map(len, chunks)) == MAX_CHUNK_BYTES
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    assert sum(map(len, chunks)) == pytest.approx(len(FIRST) * 0.060 * 48_000, abs=2)


async def test_a_later_sentence_is_requested_once_the_one_before_it_arrives(
    fake_openai: Any, client: AsyncOpenAI
) -> None:
    fake_openai.config.tts_first_byte_ms = 150
    speech = SpeechQueue(client, "gpt-4o-mini-tts", "alloy", 1.0)

    speech.say(FIRST)
    speech.say(SECOND)
    speech.end()
    chunks = await spoken(speech)

    first, second = fake_openai.records.requests_to("audio/speech")
    assert (first.json["input"], second.json["input"]) == (FIRST, SECOND)
    assert first.first_byte_at is not None
    assert second.received_at > first.first_byte_at
    # Both sentences are spoken.
    expected = (len(FIRST) + len(SECOND)) * 0.060 * 48_000
    assert sum(map(len, chunks)) == pytest.approx(expected, abs=4)
