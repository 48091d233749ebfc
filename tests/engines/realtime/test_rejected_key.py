"""A session whose server key the Realtime handshake rejects: no piece of the key is kept."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.fake_openai.openai_server import FakeOpenAI
from tests.conftest import token_for
from tests.key_leaks import (
    REJECTED_KEY,
    capture_every_log,
    leaked,
    messages_until_closed,
    stored_rows,
)
from tests.transports.json_socket.client import JsonVoiceClient
from voice.transports.codes import CLOSE_UPSTREAM

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_rejected_key_ends_the_session_and_no_piece_of_it_is_kept(
    settings: Any, fake_openai: FakeOpenAI, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    capture_every_log(caplog)
    settings.VOICE_ENGINE = "openai-realtime"
    settings.OPENAI_API_KEY = REJECTED_KEY
    client = JsonVoiceClient(token=token_for(alice))

    await client.connect()
    frames, close_code = await messages_until_closed(client)
    await client.close()  # returns once the session's rows are written
    sessions, turns = await stored_rows()

    assert leaked(REJECTED_KEY, caplog.text) == []
    assert leaked(REJECTED_KEY, "\n".join(frames)) == []
    assert leaked(REJECTED_KEY, repr(sessions) + repr(turns)) == []
    assert [r.status for r in fake_openai.records.requests_to("realtime")] == [401]
    assert close_code == CLOSE_UPSTREAM
    assert any("upstream 401 invalid_api_key" in frame for frame in frames)
    assert "upstream 401 invalid_api_key" in caplog.text
    assert [row["end_reason"] for row in sessions] == ["upstream_lost"]


def test_the_websockets_handshake_trace_stays_off_even_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    # Its DEBUG lines print each handshake header, the Authorization: Bearer key among them.
    assert not logging.getLogger("websockets.client").isEnabledFor(logging.DEBUG)
