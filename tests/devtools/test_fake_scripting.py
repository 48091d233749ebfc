"""The fake's own state: scripted faults and recordings, and forgetting both between phases."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI

from devtools.fake_openai.openai_server import FakeOpenAI

QUESTION = [{"role": "user", "content": "x"}]


@pytest.mark.asyncio
async def test_clear_forgets_records_and_queued_faults_but_keeps_the_config(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.config.reply = "Kept."
    fake.faults.fail("chat", 500, times=2)
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="m", messages=QUESTION)

    fake.clear()
    answer = await client.chat.completions.create(model="m", messages=QUESTION)

    assert answer.choices[0].message.content == "Kept."
    assert [r.status for r in fake.records.requests] == [200]


@pytest.mark.asyncio
async def test_nothing_is_recorded_while_recording_is_off(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.records.recording = False

    await client.chat.completions.create(model="m", messages=QUESTION)

    assert fake.records.requests == []
