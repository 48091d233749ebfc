"""The fake's 401s read as the service's: the invalid_api_key error quoting part of the key."""

from __future__ import annotations

import json

import openai
import pytest
from openai import AsyncOpenAI
from websockets.exceptions import InvalidStatus

from devtools.fake_openai.openai_server import FakeOpenAI

KEY = "sk-Rejected7Qz-xW4pLm2VtK8nB3cJ6dH1fG5sA0eY"
QUOTED = "Incorrect API key provided: sk-Rejec" + "*" * (len(KEY) - 12) + "A0eY."
KEYS_PAGE = "You can find your API key at https://platform.openai.com/account/api-keys."


def invalid_key(message: str) -> dict[str, object]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "code": "invalid_api_key",
            "param": None,
        }
    }


async def test_a_wrong_key_on_rest_is_quoted_by_its_first_8_and_last_4(fake: FakeOpenAI) -> None:
    async with AsyncOpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input="hi")

    assert raised.value.status_code == 401
    assert raised.value.response.json() == invalid_key(f"{QUOTED} {KEYS_PAGE}")


async def test_a_wrong_key_on_the_realtime_upgrade_is_the_same_http_401(fake: FakeOpenAI) -> None:
    async with AsyncOpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0) as sdk:
        with pytest.raises(InvalidStatus) as refused:
            async with sdk.realtime.connect(model="gpt-realtime"):
                pass

    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body or b"") == invalid_key(f"{QUOTED} {KEYS_PAGE}")


async def test_a_scripted_401_quotes_the_key_that_was_sent(fake: FakeOpenAI) -> None:
    fake.faults.fail("chat", 401)
    async with AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError) as raised:
            await sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )

    # A key of 12 characters or fewer is quoted whole, as the service quotes "undefined".
    message = f"Incorrect API key provided: sk-test. {KEYS_PAGE}"
    assert raised.value.response.json() == invalid_key(message)
