"""Both voice sockets through a real Daphne process: the close codes a browser really sees.

Channels' test communicator passes any close code through; Daphne only lets 1000 and
3000-4999 out and answers a refusal before accept with HTTP 403. These tests hold the
contract to what goes over a real socket.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devtools.audio_samples import chunks, tone
from tests.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(daphne_factory: Any, fake_openai: Any, layer_env: dict[str, str]) -> Any:
    fake_openai.config.transcript = "open the pricing page"
    fake_openai.config.reply = "Here you go. That is the pricing page."
    return daphne_factory(
        **layer_env,
        VOICE_ENGINE="openai-pipeline",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=fake_openai.base_url,
        VOICE_AUTH_TIMEOUT="0.5",
    )


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


async def close_code(ws: Any) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code


async def until(ws: Any, kind: str) -> list[dict]:
    seen = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(raw, bytes):
            seen.append(raw)
            continue
        message = json.loads(raw)
        seen.append(message)
        if message["type"] == kind:
            return seen


async def test_a_typed_turn_over_the_json_socket(server: Any, alice: User) -> None:
    async with connect(f"{server.ws_url}/api/voice/ws", additional_headers=bearer(alice)) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"type": "text", "text": "pricing please"}))
        messages = await until(ws, "audio_complete")

    kinds = [m["type"] for m in messages]
    assert kinds[0] == "response_start" and "response_complete" in kinds and "audio_chunk" in kinds


async def test_a_bad_token_closes_4401_over_daphne(server: Any, db: None) -> None:
    headers = {"Authorization": "Bearer nonsense"}
    async with connect(f"{server.ws_url}/api/voice/ws", additional_headers=headers) as ws:
        assert await close_code(ws) == 4401


async def test_no_auth_in_time_closes_4401_over_daphne(server: Any, db: None) -> None:
    async with connect(f"{server.ws_url}/api/voice/ws") as ws:
        assert await close_code(ws) == 4401


async def test_an_oversize_message_closes_4413_over_daphne(server: Any, alice: User) -> None:
    async with connect(f"{server.ws_url}/api/voice/ws", additional_headers=bearer(alice)) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "text", "text": "x" * 600_000}))
        assert await close_code(ws) == 4413


async def test_the_stream_socket_refuses_no_token_with_403(server: Any, db: None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/voice-ws"):
            pass
    assert refused.value.response.status_code == 403


async def test_a_foreign_origin_is_refused_with_403(server: Any, alice: User) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{server.ws_url}/api/voice/ws",
            additional_headers=bearer(alice),
            origin="https://evil.example.com",
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_a_spoken_turn_over_the_stream_socket(server: Any, alice: User) -> None:
    async with connect(f"{server.ws_url}/voice-ws", additional_headers=bearer(alice)) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        for frame in chunks(tone(1.0, rate=48000), 1920):  # 20 ms PCM16 frames at 48 kHz
            await ws.send(frame)
        ready = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "voice_end"}))
        seen = await until(ws, "transcription")
        seen += await until(ws, "audio_response")
        seen += await until(ws, "audio_response")

    assert ready["metadata"]["implicit"] is True
    assert any(isinstance(m, bytes) for m in seen)


async def test_an_audio_flood_closes_4429_over_daphne(server: Any, alice: User) -> None:
    async with connect(f"{server.ws_url}/voice-ws", additional_headers=bearer(alice)) as ws:
        await ws.recv()
        for frame in chunks(b"\0" * 1920 * 400, 1920):  # 8 s of audio at once
            await ws.send(frame)
        assert await close_code(ws) == 4429
