"""``/api/voice/ws`` and ``/ws/<session_id>``: the JSON voice protocol (PROTOCOL.md section 2)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.tokens import TokenRejected, user_for_token
from voice.session import events as ev
from voice.transports import codes
from voice.transports.admission import AuthWaitSlot
from voice.transports.base import Outgoing, VoiceConsumer
from voice.transports.json_socket import parse as p
from voice.transports.json_socket.render import error_message, to_json_message
from voice.transports.protocol import ProtocolError


class JsonVoiceConsumer(VoiceConsumer):
    """Authenticate (at the handshake or by a first ``auth``), parse, drive the session."""

    transport = "json"
    explicit_turns = True
    rates_frames = True  # every message counts: audio travels in text messages here
    late_auth = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auth_timer: asyncio.Task[None] | None = None
        self.auth_slot = AuthWaitSlot()
        self.limits = p.Limits(
            settings.VOICE_MAX_TEXT_CHARS,
            settings.VOICE_MAX_CONTEXT_BYTES,
            settings.VOICE_MAX_AUDIO_CHUNK_BYTES,
        )

    async def connect(self) -> None:
        waits = not self.scope["user"].is_authenticated and not settings.VOICE_ALLOW_ANONYMOUS
        waits = waits and not self.scope.get("auth", {}).get("error")
        refused = waits and not await self.auth_slot.take(self.scope)  # held before accept
        await self.accept_client()
        if self.scope.get("auth", {}).get("error"):
            await self.close(codes.CLOSE_UNAUTHORIZED)
        elif not waits:
            await self.start_session()
        elif refused:
            await self.close(codes.CLOSE_RATE_LIMITED)
        else:
            self.auth_timer = asyncio.create_task(self.expire_auth(), name="voice-auth-timeout")

    async def disconnect(self, code: int) -> None:
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        await self.auth_slot.release()
        await super().disconnect(code)

    async def on_text(self, text: str) -> None:
        try:
            message = p.parse_client_message(text, self.limits)
        except ProtocolError:
            if self.session is None:  # no good `auth` first: a missing credential (section 1)
                await self.close(codes.CLOSE_UNAUTHORIZED)
                return
            raise
        if self.session is None:
            await self.authenticate(message)
        else:
            await self.dispatch_message(message)

    async def on_frame(self, frame: bytes) -> None:
        if self.session is None:  # not an `auth` either
            await self.close(codes.CLOSE_UNAUTHORIZED)
            return
        raise ProtocolError(codes.BAD_MESSAGE, "Binary messages are not accepted here")

    async def authenticate(self, message: p.ClientMessage) -> None:
        """Late authentication: the first message must be a good ``auth``."""
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        await self.auth_slot.release()
        if not isinstance(message, p.Auth):
            await self.close(codes.CLOSE_UNAUTHORIZED)
            return
        try:
            self.scope["user"] = await database_sync_to_async(user_for_token)(message.token)
        except TokenRejected:
            await self.close(codes.CLOSE_UNAUTHORIZED)
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
                await self.send_message({"type": "pong", "payload": message.payload})
            case p.Auth():
                pass  # already authenticated: a repeated auth changes nothing

    async def start_session(self) -> None:
        if await self.open_session():
            assert self.session is not None
            await self.send_message({"type": "connected", "sessionId": str(self.session.id)})

    async def expire_auth(self) -> None:
        await asyncio.sleep(settings.VOICE_AUTH_TIMEOUT)
        await self.auth_slot.release()
        await self.close(codes.CLOSE_UNAUTHORIZED)

    def render(self, event: ev.SessionEvent) -> list[Outgoing]:
        message = to_json_message(event)
        return [] if message is None else [message]

    def render_error(self, code: str, message: str) -> dict[str, Any]:
        return error_message(code, message)
