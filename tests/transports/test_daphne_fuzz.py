"""Thousands of generated messages on both sockets of a real Daphne process: every answer is one
the contract names, never 1011 or 4500, and the process stays healthy with bounded memory."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from django.contrib.auth.models import User
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import token_for
from tests.transports.fuzz_messages import json_socket_messages, stream_socket_messages

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT_CLOSES = {1000, 4401, 4403, 4413, 4429, 4502, 4503}
JSON_ERRORS = {"bad_message", "unknown_type", "bad_audio", "rate_limited", "busy", "upstream"}
JSON_ERRORS |= {"too_large"}
STREAM_ERRORS = JSON_ERRORS | {"bad_frame", "not_streaming"}
MESSAGES_PER_SOCKET = 2500
RSS_GROWTH_BOUND_KIB = 64 * 1024  # the run must not leave the process this much bigger
END = "fuzz-end"  # the payload of the ping that closes a batch


@pytest.fixture
def server(daphne_factory: Any, fake_openai: Any) -> Any:
    fake_openai.config.transcript = "hello"
    fake_openai.config.reply = "Hello."
    return daphne_factory(
        REDIS_URL="",
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        VOICE_AUTH_TIMEOUT="0.5",
        # The parsers are under test here, not the flood limits: let every message through.
        VOICE_MESSAGE_RATE="1000000",
        VOICE_MESSAGE_BURST="1000000",
        VOICE_CONNECTIONS_PER_MINUTE_PER_IP="100000",
        VOICE_CONNECTIONS_PER_MINUTE_PER_USER="100000",
    )


@dataclass
class Run:
    answers: list[dict[str, Any]] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)
    connections: int = 0


async def read(ws: ClientConnection, run: Run, ended: asyncio.Event) -> None:
    """Collect every text answer until the socket closes; note the batch's closing pong."""
    try:
        async for raw in ws:
            if isinstance(raw, str):
                answer = json.loads(raw)
                run.answers.append(answer)
                if answer["type"] == "pong" and END in (answer.get("payload"), answer.get("data")):
                    ended.set()
    except ConnectionClosed as closed:
        run.closes.append(closed.rcvd.code if closed.rcvd else 1006)
        return
    run.closes.append(ws.close_code or 1006)


async def play(url: str, headers: dict[str, str], messages: list[str | bytes], end: str) -> Run:
    """Send every message, on a new socket each time the server closes one."""
    run = Run()
    sent = 0
    while sent < len(messages):
        run.connections += 1
        async with connect(url, additional_headers=headers, max_size=None) as ws:
            ended = asyncio.Event()
            reader = asyncio.create_task(read(ws, run, ended), name="fuzz-reader")
            try:
                while sent < len(messages):
                    await ws.send(messages[sent])
                    sent += 1
                await ws.send(end)
                done = asyncio.create_task(ended.wait(), name="fuzz-end")
                await asyncio.wait({done, reader}, timeout=20, return_when="FIRST_COMPLETED")
                done.cancel()
            except ConnectionClosed:
                pass  # the server closed: its code is the reader's
            await ws.close()
            await reader
    return run


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def error_codes(run: Run) -> set[str]:
    return {
        a.get("code") or a.get("metadata", {}).get("error")
        for a in run.answers
        if a["type"] == "error"
    }


async def fuzz_both(server: Any, user: User, rng: random.Random, count: int) -> list[Run]:
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    json_url, stream_url = f"{server.ws_url}/api/voice/ws", f"{server.ws_url}/voice-ws"
    json_end = json.dumps({"type": "ping", "payload": END})
    stream_end = json.dumps({"type": "ping", "data": END})
    json_run = await play(json_url, headers, json_socket_messages(rng, count), json_end)
    stream_run = await play(stream_url, headers, stream_socket_messages(rng, count), stream_end)
    # Without a token, a first message is judged by late auth: one socket per message.
    anonymous_run = Run()
    for message in json_socket_messages(rng, count // 50):
        one = await play(json_url, {}, [message], json_end)
        anonymous_run.answers += one.answers
        anonymous_run.closes += one.closes
        anonymous_run.connections += one.connections
    return [json_run, stream_run, anonymous_run]


async def test_fuzzed_messages_get_contract_answers_and_leave_the_server_well(
    server: Any, alice: User
) -> None:
    rng = random.Random(14)
    pid = server.process.pid
    await fuzz_both(server, alice, rng, 100)  # warm up: imports, codecs, caches
    before = rss_kib(pid)

    json_run, stream_run, anonymous_run = await fuzz_both(server, alice, rng, MESSAGES_PER_SOCKET)
    after = rss_kib(pid)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http_url}/api/health") as response:
            health = response.status, (await response.json())["status"]

    for run in (json_run, stream_run, anonymous_run):
        assert set(run.closes) <= CONTRACT_CLOSES, run.closes
    assert error_codes(json_run) | error_codes(anonymous_run) <= JSON_ERRORS
    assert error_codes(stream_run) <= STREAM_ERRORS
    assert set(anonymous_run.closes) == {4401}
    assert health == (200, "healthy")
    assert after - before < RSS_GROWTH_BOUND_KIB, f"RSS {before} -> {after} KiB"
    print(
        f"fuzz: {len(json_run.answers)}+{len(stream_run.answers)} answers, "
        f"{json_run.connections}+{stream_run.connections}+{anonymous_run.connections} sockets, "
        f"RSS {before} -> {after} KiB"
    )
