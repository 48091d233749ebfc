"""Looking for a rejected API key in what a session leaves behind: logs, messages and rows.

The service's 401 quotes the key's first 8 and last 4 characters; none of our outputs may
carry any 6 characters of it in a row.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.transports.json_socket.client import JsonVoiceClient
from voice.models import Turn, VoiceSession

# Upper case and dashes make a chance match with ids or base64 in the haystack unlikely.
REJECTED_KEY = "sk-Rejected7Qz-xW4pLm2VtK8nB3cJ6dH1fG5sA0eY"
FRAGMENT_CHARS = 6
# Our loggers and the SDK's transport loggers, each forced down to DEBUG. The websockets
# client stays at the level our LOGGING gives it: at DEBUG it prints the request headers.
LOGGERS = ("", "voice", "accounts", "devtools", "django", "openai", "httpx2", "httpcore2")


def leaked(key: str, haystack: str) -> list[str]:
    """Every run of FRAGMENT_CHARS characters of ``key`` found in ``haystack``."""
    runs = {key[i : i + FRAGMENT_CHARS] for i in range(len(key) - FRAGMENT_CHARS + 1)}
    return sorted(run for run in runs if run in haystack)


def capture_every_log(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


async def messages_until_closed(client: JsonVoiceClient) -> tuple[list[str], int]:
    """Every text frame the server sent until it closed the socket, and the close code."""
    frames = []
    while True:
        output = await client.ws.receive_output(10)
        if output["type"] == "websocket.close":
            return frames, output.get("code", 1000)
        frames.append(output.get("text", ""))


def frames_of(client: JsonVoiceClient) -> str:
    return "\n".join(json.dumps(message) for message in client.received)


@database_sync_to_async
def stored_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every session row and turn row, all columns."""
    return list(VoiceSession.objects.values()), list(Turn.objects.values())
