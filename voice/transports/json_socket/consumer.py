"""``/api/voice/ws`` and ``/ws/<session_id>``: the JSON voice protocol (PROTOCOL.md section 2)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.tokens import TokenRejected, user_for_token
from voice.session import events as ev
from voice.session.flow import MessageRate
from voice.session.service import SessionService
from voice.transports.base import (
    SessionControl,
    too_large,
)
from voice.transports.json_socket import parse as p
from voice.transports.json_socket.render import to_json_message

logger = logging.getLogger(__name__)


class JsonVoiceConsumer(SessionControl):
    """Thin glue: authenticate, validate messages, drive a ``SessionService``."""

    session: SessionService | None = None
    auth_timer: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        auth = self.scope.get("auth", {})
        subprotocol = "bearer" if auth.get("source") == "subprotocol" else None
        await self.accept(subprotocol)
        self.limits = p.Limits(
            settings.VOICE_MAX_TEXT_CHARS,
            settings.VOICE_MAX_CONTEXT_BYTES,
            settings.VOICE_MAX_AUDIO_CHUNK_BYTES,
        )
        self.rate = MessageRate(
            settings.VOICE_MESSAGE_RATE,
            settings.VOICE_MESSAGE_BURST,
            settings.VOICE_FLOOD_GRACE_SECONDS,
        )
        if auth.get("error"):
            await self.close(p.CLOSE_UNAUTHORIZED)
        elif self.scope["user"].is_authenticated or settings.VOICE_ALLOW_ANONYMOUS:
            await self.start_session()
        else:
            self.auth_timer = asyncio.create_task(self.expire_auth(), name="voice-auth-timeout")

    async def disconnect(self, code: int) -> None:
        await self.leave_session_group()
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        if self.ending is not None:
            await self.ending
        elif self.session is not None:
            await self.session.close("client_closed")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is not None:
            self.session.counters["messages_in"] += 1
        if too_large(text_data, bytes_data, settings.VOICE_MAX_MESSAGE_BYTES):
            await self.close(p.CLOSE_TOO_LARGE)
            return
        verdict = self.rate.check()
        if verdict == "close":
            await self.close(p.CLOSE_RATE_LIMITED)
            return
        if verdict != "ok":
            if verdict == "limited":
                await self.send_error(p.RATE_LIMITED, p.RATE_LIMIT_MESSAGE)
            return
        if text_data is None:
            await self.send_error(p.BAD_MESSAGE, "Binary messages are not accepted here")
            return
        try:
            message = p.parse_client_message(text_data, self.limits)
            if self.session is None:
                await self.authenticate(message)
            else:
                await self.dispatch_message(message)
        except p.ProtocolError as exc:
            await self.send_error(exc.code, exc.detail)

    async def authenticate(self, message: p.ClientMessage) -> None:
        """Late authentication: the first message must be a good ``auth``."""
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        if not isinstance(message, p.Auth):
            await self.close(p.CLOSE_UNAUTHORIZED)
            return
        try:
            self.scope["user"] = await database_sync_to_async(user_for_token)(message.token)
        except TokenRejected:
            await self.close(p.CLOSE_UNAUTHORIZED)
            return
        await self.start_session()

    async def dispatch_message(self, message: p.ClientMessage) -> None:
        session = self.session
        assert session is not None
        match message:
            case p.AudioChunk():
                await session.audio(p.decode_audio(message, self.limits))
            case p.Config():
                await session.configure(p.parse_settings(message.settings), message.context)
            case p.StartListening():
                await session.start_listening()
            case p.StopListening():
                await session.stop_listening()
            case p.Text():
                await session.text(message.text)
            case p.Ping():
                await self.send_json({"type": "pong", "payload": message.payload})
            case p.Auth():
                pass  # already authenticated: a repeated auth changes nothing

    async def start_session(self) -> None:
        if await self.open_session("json", explicit_turns=True):
            assert self.session is not None
            await self.send_json({"type": "connected", "sessionId": str(self.session.id)})

    async def expire_auth(self) -> None:
        await asyncio.sleep(settings.VOICE_AUTH_TIMEOUT)
        await self.close(p.CLOSE_UNAUTHORIZED)

    async def deliver(self, event: ev.SessionEvent) -> None:
        if isinstance(event, ev.SessionEnded):
            await self.end_session(event.close_code, event.reason)
            return
        message = to_json_message(event)
        if message is not None:
            await self.send_json(message)

    async def send_json(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            self.session.counters["messages_out"] += 1
        await self.send(text_data=p.dump(message))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "message": message, "code": code})
