"""An engine that fails with the service's own error: the session ends and logs no key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx2
import openai
import pytest
from django.contrib.auth.models import User

from devtools.fake_openai.errors import invalid_key_message
from tests.key_leaks import REJECTED_KEY, capture_every_log, leaked
from tests.session.scripted import Delivered, ScriptedEngine
from voice.engines import base as eng
from voice.session import events as ev
from voice.session.service import SessionService

pytestmark = pytest.mark.django_db(transaction=True)


def refused() -> openai.AuthenticationError:
    """What the SDK raises for a rejected key: its text quotes the service's message."""
    error = {
        "message": invalid_key_message(REJECTED_KEY),
        "type": "invalid_request_error",
        "code": "invalid_api_key",
        "param": None,
    }
    request = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx2.Response(401, json={"error": error}, request=request)
    return openai.AuthenticationError(
        f"Error code: 401 - {{'error': {error}}}", response=response, body=error
    )


class RefusedEngine(ScriptedEngine):
    async def events(self) -> AsyncIterator[eng.EngineEvent]:
        raise refused()
        yield  # an async generator, as the engines' own


async def test_an_engine_failing_with_an_upstream_error_ends_the_session_keyless(
    alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    capture_every_log(caplog)
    delivered = Delivered()
    session = SessionService(
        engine=RefusedEngine(),
        sink=delivered,
        transport="json",
        user_id=alice.pk,
        client_ip="127.0.0.1",
        session_id=uuid.uuid4(),
    )

    await session.open()
    ended = await delivered.until(lambda e: isinstance(e, ev.SessionEnded))
    await session.close()

    assert leaked(REJECTED_KEY, caplog.text) == []
    assert ended == ev.SessionEnded(ev.Ending.UPSTREAM, "engine_failed")
    assert "upstream 401 invalid_api_key" in caplog.text
