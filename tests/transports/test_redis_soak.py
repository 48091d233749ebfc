"""Sessions on Redis live as long as their clients: a soak against a real Daphne process.

Redis clients time out a read after a few seconds unless told otherwise, while the channel
layer waits on Redis with a blocking read of its own: a session must outlive both, streaming
audio the whole time, on both sockets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import token_for
from voice.models import VoiceSession

pytestmark = pytest.mark.django_db(transaction=True)

SOAK_SECONDS = 60.0
SESSIONS_PER_SOCKET = 10
PING_EVERY = 1.0
FRAME_SECONDS = 0.02
SILENCE_16K_20MS = b"\0" * 640  # PCM16 16 kHz mono: 320 samples
PATHS = {"json": "/api/voice/ws", "binary": "/voice-ws"}


@pytest.fixture
def server(daphne_factory: Any, fake_openai: Any, redis_url: str) -> Any:
    return daphne_factory(
        REDIS_URL=redis_url,
        VOICE_ENGINE="openai-realtime",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        VOICE_MAX_SESSIONS_PER_USER="100",
    )


class Soaker:
    """One client: streams silence in real time and pings once a second until told to stop."""

    def __init__(self, ws: ClientConnection, kind: str) -> None:
        self.ws = ws
        self.kind = kind
        self.pongs = 0
        self.ponged = asyncio.Event()
        self.session_id = ""

    async def start(self) -> None:
        if self.kind == "json":
            hello = json.loads(await self.ws.recv())
            assert hello["type"] == "connected", hello
            self.session_id = hello["sessionId"]
            settings = {"audioFormat": "pcm16", "sampleRate": 16000, "outputFormat": "pcm16"}
            await self.ws.send(json.dumps({"type": "config", "settings": settings, "context": {}}))
            await self.ws.send(json.dumps({"type": "start_listening"}))
        else:
            ready = json.loads(await self.ws.recv())
            assert ready["type"] == "ready", ready
            self.session_id = ready["metadata"]["sessionId"]
            start = {"sampleRate": 16000, "channels": 1, "codec": "pcm16"}
            await self.ws.send(json.dumps({"type": "voice_start", "data": None, "metadata": start}))

    async def stream(self, until: float) -> None:
        """Send frames in real time, and a ping a second, until the monotonic time ``until``."""
        frames = 0
        began = time.monotonic()
        next_ping = began
        while (now := time.monotonic()) < until:
            if now >= next_ping:
                await self.ws.send(self.ping())
                next_ping += PING_EVERY
            await self.ws.send(self.frame())
            frames += 1
            await asyncio.sleep(max(0.0, began + frames * FRAME_SECONDS - time.monotonic()))

    async def answers_a_ping(self) -> bool:
        self.ponged.clear()
        await self.ws.send(self.ping())
        try:
            await asyncio.wait_for(self.ponged.wait(), 5)
        except TimeoutError:
            return False
        return True

    def ping(self) -> str:
        if self.kind == "json":
            return json.dumps({"type": "ping", "payload": self.pongs})
        return json.dumps({"type": "ping", "data": self.pongs, "metadata": {}})

    def frame(self) -> str | bytes:
        if self.kind == "json":
            data = base64.b64encode(SILENCE_16K_20MS).decode()
            return json.dumps({"type": "audio_chunk", "data": data})
        return SILENCE_16K_20MS

    async def read(self) -> None:
        """Count pongs until the connection closes."""
        async for raw in self.ws:
            if isinstance(raw, str) and json.loads(raw)["type"] == "pong":
                self.pongs += 1
                self.ponged.set()


def live_rows() -> set[str]:
    return {
        str(pk) for pk in VoiceSession.objects.filter(ended_at=None).values_list("pk", flat=True)
    }


def end_reasons(ids: set[str]) -> list[str]:
    return list(VoiceSession.objects.filter(pk__in=ids).values_list("end_reason", flat=True))


async def test_sessions_on_redis_outlive_every_timeout(server: Any, alice: User) -> None:
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    kinds = ["json"] * SESSIONS_PER_SOCKET + ["binary"] * SESSIONS_PER_SOCKET
    clients = [
        Soaker(await connect(f"{server.ws_url}{PATHS[kind]}", additional_headers=headers), kind)
        for kind in kinds
    ]
    await asyncio.gather(*(client.start() for client in clients))
    ids = {client.session_id for client in clients}
    readers = [asyncio.create_task(client.read()) for client in clients]
    streams = asyncio.ensure_future(
        asyncio.gather(*(client.stream(time.monotonic() + SOAK_SECONDS) for client in clients))
    )
    live_samples = []
    try:
        while not streams.done():
            live_samples.append(await sync_to_async(live_rows)())
            await asyncio.wait([streams, *readers], timeout=5, return_when="FIRST_COMPLETED")
            closed = [(c.kind, c.ws.close_code) for c in clients if c.ws.close_code is not None]
            assert not closed, f"the server closed sessions: {closed}"
        await streams
        assert all([await client.answers_a_ping() for client in clients])
    finally:
        streams.cancel()
        for client in clients:
            await client.ws.close()
        await asyncio.gather(*readers, return_exceptions=True)

    assert len(live_samples) >= SOAK_SECONDS / 5 - 1
    assert all(ids <= live for live in live_samples)
    assert all(client.pongs >= SOAK_SECONDS / PING_EVERY - 5 for client in clients)
    assert all(client.ws.close_code == 1000 for client in clients)
    # The rows end as the server sees each close; wait for the last of them.
    for _ in range(100):
        if not ids & await sync_to_async(live_rows)():
            break
        await asyncio.sleep(0.1)
    assert await sync_to_async(end_reasons)(ids) == ["client_closed"] * len(ids)
