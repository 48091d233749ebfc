"""Turns whose upstream calls are refused for a bad server key: no piece of the key is kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from devtools.audio_samples import chunks, tone
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.conftest import token_for
from tests.key_leaks import (
    REJECTED_KEY,
    capture_every_log,
    frames_of,
    leaked,
    stored_rows,
)
from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = "upstream 401 invalid_api_key"


async def test_refused_turns_keep_no_piece_of_the_key(
    settings: Any, pipeline: FakeOpenAI, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    capture_every_log(caplog)
    settings.OPENAI_API_KEY = REJECTED_KEY
    client = JsonVoiceClient(token=token_for(alice))
    await client.connect()
    await client.send({"type": "config", "settings": {"audioFormat": "pcm16"}})

    await client.send({"type": "text", "text": "hello"})
    typed = await client.receive_until("audio_complete")
    await client.send({"type": "start_listening"})
    for chunk in chunks(tone(1.0), 4800):
        await client.send_audio(chunk)
    await client.send({"type": "stop_listening"})
    spoken = await client.receive_until("error")
    await client.close()  # returns once the session's rows are written
    sessions, turns = await stored_rows()

    assert leaked(REJECTED_KEY, caplog.text) == []
    assert leaked(REJECTED_KEY, frames_of(client)) == []
    assert leaked(REJECTED_KEY, repr(sessions) + repr(turns)) == []
    statuses = [(r.endpoint, r.status) for r in pipeline.records.requests]
    assert statuses == [("chat/completions", 401), ("audio/transcriptions", 401)]
    errors = [m["message"] for m in typed + spoken if m["type"] == "error"]
    assert len(errors) == 2 and all(REFUSED in message for message in errors)
    assert caplog.text.count(REFUSED) >= 2
    assert [turn["end_reason"] for turn in turns] == ["error", "error"]
    assert REFUSED in turns[1]["error"]
