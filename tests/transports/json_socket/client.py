"""A client of the JSON voice protocol written from PROTOCOL.md section 2, over the real stack."""

from __future__ import annotations

import base64
import json
from typing import Any

from channels.testing import WebsocketCommunicator

from voiceproject.asgi import application

TIMEOUT = 10


class JsonVoiceClient:
    def __init__(self, path: str = "/api/voice/ws", token: str | None = None, **kwargs: Any):
        headers = list(kwargs.pop("headers", []))
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        self.ws = WebsocketCommunicator(application, path, headers=headers, **kwargs)
        self.received: list[dict[str, Any]] = []

    async def connect(self) -> tuple[bool, Any]:
        return await self.ws.connect(timeout=TIMEOUT)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_to(text_data=json.dumps(message))

    async def send_audio(self, chunk: bytes) -> None:
        await self.send({"type": "audio_chunk", "data": base64.b64encode(chunk).decode()})

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any]:
        message = json.loads(await self.ws.receive_from(timeout=within))
        self.received.append(message)
        return message

    async def receive_until(self, kind: str, within: float = TIMEOUT) -> list[dict[str, Any]]:
        """Every message up to and including the first of type ``kind``."""
        seen = []
        while True:
            message = await self.receive(within)
            seen.append(message)
            if message["type"] == kind:
                return seen

    async def closed_with(self, within: float = TIMEOUT) -> int:
        output = await self.ws.receive_output(within)
        while output["type"] != "websocket.close":
            output = await self.ws.receive_output(within)
        return output.get("code", 1000)

    async def close(self) -> None:
        await self.ws.disconnect()


def types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]
