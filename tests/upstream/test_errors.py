"""``describe``: an upstream failure told by status and code, never by the service's words."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest
import pytest_asyncio
from websockets.exceptions import InvalidStatus

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.key_leaks import REJECTED_KEY, leaked
from voice.upstream.errors import describe, describe_error

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest_asyncio.fixture
async def rejected(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    """A client whose key the fake refuses, quoting part of it as the service does."""
    async with openai.AsyncOpenAI(
        api_key=REJECTED_KEY, base_url=fake.base_url, max_retries=0
    ) as client:
        yield client


@pytest_asyncio.fixture
async def accepted(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key=fake.api_key, base_url=fake.base_url, max_retries=0
    ) as client:
        yield client


async def test_a_refused_request_is_its_status_and_code(rejected: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as raised:
        await rejected.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert leaked(REJECTED_KEY, str(raised.value))  # the service's text quotes the key
    assert describe(raised.value) == "upstream 401 invalid_api_key"


async def test_a_refused_realtime_handshake_is_its_status_and_code(
    rejected: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(InvalidStatus) as raised:
        async with rejected.realtime.connect(model="gpt-realtime"):
            pass

    assert leaked(REJECTED_KEY, raised.value.response.body.decode())
    assert describe(raised.value) == "upstream 401 invalid_api_key"


async def test_a_code_that_is_not_an_identifier_gives_way_to_the_type(
    fake: FakeOpenAI, accepted: openai.AsyncOpenAI
) -> None:
    fake.faults.fail("chat", 400, body_code=f"bad key {REJECTED_KEY}")

    with pytest.raises(openai.BadRequestError) as raised:
        await accepted.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert describe(raised.value) == "upstream 400 invalid_request_error"


async def test_an_error_inside_a_stream_is_its_code(
    fake: FakeOpenAI, accepted: openai.AsyncOpenAI
) -> None:
    fake.faults.sse_error("chat", message=f"Your key {REJECTED_KEY} is bad", code="server_error")

    with pytest.raises(openai.APIError) as raised:
        stream = await accepted.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            pass

    assert describe(raised.value) == "upstream server_error"


async def test_a_stream_cut_short_is_unreachable(
    fake: FakeOpenAI, accepted: openai.AsyncOpenAI
) -> None:
    fake.faults.cut_stream("chat")

    with pytest.raises(openai.APIConnectionError) as raised:
        stream = await accepted.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            pass

    assert describe(raised.value) == "upstream unreachable"


@pytest.mark.parametrize(
    ("error", "status", "described"),
    [
        (
            {"type": "invalid_request_error", "code": "unknown_parameter"},
            None,
            "upstream unknown_parameter",
        ),
        ({"type": "server_error", "code": None}, None, "upstream server_error"),
        ({"message": f"Incorrect API key provided: {REJECTED_KEY}"}, 401, "upstream 401"),
        ({}, None, "upstream error"),
    ],
)
def test_an_error_object_keeps_only_its_code_or_type(
    error: dict[str, object], status: int | None, described: str
) -> None:
    assert describe_error(error, status) == described


def test_anything_else_is_its_class_name() -> None:
    assert describe(RuntimeError(REJECTED_KEY)) == "upstream RuntimeError"
