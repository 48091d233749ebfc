"""The socket attacks of ``bench/abuse.py`` (issue 14 items 1-4 and 6), each judged by the words
of PROTOCOL.md section 7."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.abuse_client import JSON_PATH, STREAM_PATH, Client

PACE = 1 / 80  # seconds between paced messages: under the 100/s message rate
LONE = "\ud800"  # json.dumps escapes it, so the frame is valid JSON that UTF-8 cannot encode


@dataclass
class Outcome:
    """What the server answered, whether the contract holds, and any figure worth showing."""

    heard: Counter[str]
    passed: bool
    figures: str = ""
    rss_from: float | None = None  # KiB; set when the attack measures after a warm-up


@dataclass
class Target:
    """The server under attack: its address, its users' tokens, its process's figures."""

    ws_url: str
    http_url: str
    tokens: dict[str, str]
    rss_kib: Callable[[], float]
    extra: dict[str, Any] = field(default_factory=dict)


async def flood(target: Target, path: str, message: Callable[[int], str | bytes]) -> Outcome:
    """Send as fast as the socket takes for 5 s, reading everything the server says meanwhile."""
    client = await Client.open(target.ws_url, path, target.tokens["flood"])
    if path == STREAM_PATH:
        start = {"type": "voice_start", "metadata": {"codec": "opus", "sampleRate": 48000}}
        await client.send(start)
        await client.until({"ready"})
    started = time.monotonic()
    # The server may still be working through the flood when the client stops: 3 s more.
    reader = asyncio.create_task(client.wait_closed(8.0))
    sent = 0
    while time.monotonic() - started < 5.0 and await client.send(message(sent)):
        sent += 1
        await asyncio.sleep(0)  # let the reader count what comes back
    closed = await reader
    took = time.monotonic() - started
    await client.close()
    heard = client.heard
    figures = f"{sent} sent, " + (f"closed after {took:.1f} s" if closed else "never closed")
    notices_ok = heard["error bad_frame"] <= took + 1  # at most one a second
    passed = closed == 4429 and heard["error rate_limited"] == 1 and notices_ok
    return Outcome(heard, passed, figures)


async def message_flood(target: Target) -> Outcome:
    return await flood(target, JSON_PATH, lambda n: json.dumps({"type": "ping", "payload": n}))


def junk_frames(count: int = 64) -> list[bytes]:
    """Frames no 20 ms Opus stream holds: TOC bytes of other durations, or a malformed count."""
    rng = random.Random(14)
    tocs = [config << 3 for config in (0, 2, 3, 16, 17, 18)] + [(1 << 3) | 3]
    return [bytes([rng.choice(tocs), 0]) + rng.randbytes(rng.randint(0, 400)) for _ in range(count)]


async def junk_flood(target: Target) -> Outcome:
    frames = junk_frames()
    return await flood(target, STREAM_PATH, lambda n: frames[n % len(frames)])


SURROGATES: list[tuple[str, dict[str, Any]]] = [
    (JSON_PATH, {"type": LONE}),
    (JSON_PATH, {"type": "text", "text": f"hello {LONE}"}),
    (JSON_PATH, {"type": "config", "settings": {}, "context": {"page": {"title": LONE}}}),
    (JSON_PATH, {"type": "config", "settings": {}, "context": {LONE: 1}}),
    (JSON_PATH, {"type": "config", "settings": {"language": f"en-{LONE}"}, "context": {}}),
    (JSON_PATH, {"type": "config", "settings": {"theme": LONE}, "context": {}}),
    (JSON_PATH, {"type": "ping", "payload": LONE}),
    (STREAM_PATH, {"type": "ping", "data": LONE}),
    (STREAM_PATH, {"type": "voice_start", "metadata": {"codec": LONE}}),
]


async def surrogates(target: Target) -> Outcome:
    """Each message on its own connection: answered `bad_message`, and the socket stays."""
    heard: Counter[str] = Counter()
    good = 0
    for path, message in SURROGATES:
        client = await Client.open(target.ws_url, path, target.tokens["text"])
        answer = await client.answer(json.dumps(message))
        survived = await client.alive()
        good += answer == Counter({"error bad_message": 1}) and survived
        heard += client.heard
        await client.close()
    figures = f"{good}/{len(SURROGATES)} answered bad_message and stayed open"
    return Outcome(heard, good == len(SURROGATES), figures)


STRINGLY: list[tuple[str, dict[str, Any]]] = [
    (JSON_PATH, {"type": "config", "settings": {"sampleRate": "48000"}}),
    (JSON_PATH, {"type": "config", "settings": {"rate": "1.5"}}),
    (JSON_PATH, {"type": "config", "settings": {"sampleRate": True}}),
    (JSON_PATH, {"type": "config", "settings": {"language": 5}}),
    (STREAM_PATH, {"type": "voice_start", "metadata": {"sampleRate": "48000"}}),
]


async def strict_types(target: Target) -> Outcome:
    """Numbers as strings, a bool for a number, a number for a string: each is `bad_message`."""
    heard: Counter[str] = Counter()
    good = 0
    clients = {
        path: await Client.open(target.ws_url, path, target.tokens["types"])
        for path in (JSON_PATH, STREAM_PATH)
    }
    for path, message in STRINGLY:
        answer = await clients[path].answer(message)
        good += answer == Counter({"error bad_message": 1})
        if not answer:
            heard["accepted"] += 1
    for client in clients.values():
        heard += client.heard
        await client.close()
    return Outcome(heard, good == len(STRINGLY), f"{good}/{len(STRINGLY)} refused")


FIRST_MESSAGES: list[str | bytes] = [
    json.dumps({"type": "ping"}),
    json.dumps({"type": "text", "text": "hello"}),
    "{not json",
    b"\x00\x01\x02",
    json.dumps({"type": "auth", "token": 123}),
    json.dumps({"type": "auth", "token": None}),
]


async def unauthenticated(target: Target) -> Outcome:
    """No token at the handshake, then a first message that is not a good `auth`: 4401 at once
    (well before the 5 s auth timeout)."""
    heard: Counter[str] = Counter()
    for message in FIRST_MESSAGES:
        client = await Client.open(target.ws_url, JSON_PATH)
        await client.send(message)
        if await client.wait_closed(2.0) is None:
            heard["open after 2 s"] += 1
        heard += client.heard
        await client.close()
    return Outcome(heard, heard["close 4401"] == len(FIRST_MESSAGES))


async def auth_waiters(target: Target, count: int = 40) -> Outcome:
    """``count`` sockets from one address that never send `auth`: at most 20 may wait at once."""
    clients = await asyncio.gather(*(Client.open(target.ws_url, JSON_PATH) for _ in range(count)))
    early = await asyncio.gather(*(c.wait_closed(1.0) for c in clients))
    waiting = [c for c, code in zip(clients, early, strict=True) if code is None and c.ws]
    await asyncio.gather(*(c.wait_closed(8.0) for c in waiting))  # the 5 s auth timeout
    heard: Counter[str] = Counter()
    for client in clients:
        heard += client.heard
        await client.close()
    refused = heard["close 4429"] + heard["HTTP 403"] + heard["HTTP 429"]
    timed_out = sum(c.closed == 4401 for c in waiting)
    passed = len(waiting) <= 20 and refused == count - len(waiting) and timed_out == len(waiting)
    return Outcome(heard, passed, f"{len(waiting)} waited for auth at once")


async def reply_to_text(client: Client, done: str, within: float) -> bool:
    """A typed question and its answer: everything sent before it has been handled."""
    await client.send({"type": "text", "text": "what pages are there"})
    return await client.until({done}, within) is not None


async def config_storm(target: Target, configs: int = 1000) -> Outcome:
    """``configs`` configs with changing page titles on one local-engine session, paced under
    the message rate; RSS is compared after a warm-up turn and after the answer that follows."""
    client = await Client.open(target.ws_url, JSON_PATH, target.tokens["storm"])
    await client.send({"type": "config", "settings": {}, "context": {"page": {"title": "Home"}}})
    await reply_to_text(client, "audio_complete", 60.0)
    before = target.rss_kib()
    sent = 0
    for sent in range(1, configs + 1):
        context = {"page": {"title": f"Pricing plan {sent}", "path": f"/pricing/{sent}"}}
        if not await client.send({"type": "config", "settings": {}, "context": context}):
            break
        await asyncio.sleep(PACE)
        if sent % 50 == 0 and target.rss_kib() - before > 512 * 1024:
            break  # enough to show the leak without exhausting the machine
    caught_up = await reply_to_text(client, "audio_complete", 60.0)
    grown = (target.rss_kib() - before) / 1024
    alive = await client.alive()
    await client.close()
    figures = f"{sent} configs, RSS {grown:+.1f} MiB" + ("" if caught_up else ", still busy")
    return Outcome(client.heard, alive and caught_up and grown < 5.0, figures, before)


async def realtime_storm(target: Target, configs: int = 300) -> Outcome:
    """``configs`` identical configs on one Realtime session: count `session.update` upstream."""
    updates: Callable[[], int] = target.extra["session_updates"]
    client = await Client.open(target.ws_url, JSON_PATH, target.tokens["storm"])
    message = {"type": "config", "settings": {"language": "en-US"}, "context": {"page": "Home"}}
    await client.send(message)
    await reply_to_text(client, "response_complete", 20.0)
    before = updates()
    for _ in range(configs):
        if not await client.send(message):
            break
        await asyncio.sleep(PACE)
    caught_up = await reply_to_text(client, "response_complete", 30.0)
    extra = updates() - before
    await client.close()
    figures = f"{extra} session.update upstream for {configs} identical configs"
    return Outcome(client.heard, caught_up and extra <= 1, figures)
