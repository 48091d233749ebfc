"""A client of the binary streaming protocol written from PROTOCOL.md section 3."""

from __future__ import annotations

import json
from typing import Any

from channels.testing import WebsocketCommunicator

from voiceproject.asgi import application

TIMEOUT = 10


class StreamVoiceClient:
    def __init__(self, token: str | None = None, path: str = "/voice-ws", **kwargs: Any) -> None:
        headers = list(kwargs.pop("headers", []))
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        self.ws = WebsocketCommunicator(application, path, headers=headers, **kwargs)

    async def connect(self) -> tuple[bool, Any]:
        return await self.ws.connect(timeout=TIMEOUT)

    async def control(self, kind: str, data: Any = None, **metadata: Any) -> None:
        await self.ws.send_to(
            text_data=json.dumps({"type": kind, "data": data, "metadata": metadata})
        )

    async def frame(self, data: bytes) -> None:
        await self.ws.send_to(bytes_data=data)

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any] | bytes:
        output = await self.ws.receive_output(within)
        if output["type"] == "websocket.close":
            raise ConnectionError(f"closed with {output.get('code')}")
        if output.get("bytes") is not None:
            return output["bytes"]
        return json.loads(output["text"])

    async def receive_json(self, within: float = TIMEOUT) -> dict[str, Any]:
        message = await self.receive(within)
        assert isinstance(message, dict), "expected a text message, got audio"
        return message

    async def receive_until(self, kind: str, within: float = TIMEOUT, **metadata: Any) -> list:
        """Everything up to and including the first text message of ``kind`` (and metadata)."""
        seen: list = []
        while True:
            message = await self.receive(within)
            seen.append(message)
            if isinstance(message, dict) and message["type"] == kind:
                if all(message["metadata"].get(k) == v for k, v in metadata.items()):
                    return seen

    async def closed_with(self, within: float = TIMEOUT) -> int:
        output = await self.ws.receive_output(within)
        while output["type"] != "websocket.close":
            output = await self.ws.receive_output(within)
        return output.get("code", 1000)

    async def close(self) -> None:
        await self.ws.disconnect()
