"""What both voice sockets share: admission, the gate of each message, sending, the session's
control group and its end."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, ClassVar

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from voice.engines import create_engine
from voice.session import events as ev
from voice.session.limits import MessageRate, Verdict
from voice.session.live import session_group
from voice.session.service import SessionService
from voice.transports import codes
from voice.transports.admission import (
    admit_connection,
    choose_session_id,
    count_handshake,
    proposed_session_id,
    user_id_of,
)
from voice.transports.client_ip import client_ip_from_scope
from voice.transports.protocol import ProtocolError, dump

logger = logging.getLogger(__name__)

Outgoing = dict[str, Any] | bytes  # a text message, or a binary frame


def too_large(text_data: str | None, bytes_data: bytes | None, limit: int) -> bool:
    """Whether a message is over ``limit`` bytes; text is encoded only when it could be."""
    if text_data is None:
        return len(bytes_data or b"") > limit
    # UTF-8 takes at most 4 bytes per character.
    return len(text_data) * 4 > limit and len(text_data.encode()) > limit


class VoiceConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # Channels is untyped
    """One voice socket driving one ``SessionService``; a wire subclass parses and renders.

    The subclass implements ``on_text``, ``on_frame``, ``render`` and ``render_error``.
    """

    transport: ClassVar[str]  # recorded on the session row
    explicit_turns: ClassVar[bool]  # the client marks its utterances (see SessionService)
    rates_frames: ClassVar[bool]  # binary frames count against the message rate
    late_auth: ClassVar[bool] = False  # messages are read before a session opens

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: SessionService | None = None
        self.control_group: str | None = None
        self.ending: asyncio.Task[None] | None = None  # the session closing after an end
        self.rate = MessageRate(
            settings.VOICE_MESSAGE_RATE,
            settings.VOICE_MESSAGE_BURST,
            settings.VOICE_FLOOD_GRACE_SECONDS,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve the connection; a fault anywhere in it ends the session as an internal error.

        Left to Channels, an exception would close the socket with 1011 and leave the session
        open, its heartbeat still beating in this process.
        """
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            session_id = self.session.id if self.session is not None else None
            logger.exception("voice connection failed (session %s)", session_id)
            await self.fail()

    async def fail(self) -> None:
        """Close with 4500 while the client can still hear it, then record the session ended."""
        try:
            await self.base_send({"type": "websocket.close", "code": codes.CLOSE_INTERNAL})
        except Exception:  # the client may be gone already: the record below still matters
            logger.debug("could not send the internal-error close", exc_info=True)
        await self.leave_session_group()
        if self.ending is not None:
            await asyncio.gather(self.ending, return_exceptions=True)
        elif self.session is not None:
            await self.session.close("internal_error")

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        """Count every handshake toward new connections per IP before its credentials matter."""
        if await count_handshake(self.scope):
            await super().websocket_connect(message)
            return
        await self.accept_client()
        await self.close(codes.CLOSE_RATE_LIMITED)

    async def accept_client(self) -> None:
        """Accept, echoing the ``bearer`` subprotocol when the token came in it."""
        auth = self.scope.get("auth", {})
        await self.accept("bearer" if auth.get("source") == "subprotocol" else None)

    async def open_session(self) -> bool:
        """Apply the connection limits, then open the session; False if the socket closed."""
        if not await admit_connection(self.scope):
            await self.close(codes.CLOSE_RATE_LIMITED)
            return False
        user_id = user_id_of(self.scope)
        session_id = await choose_session_id(proposed_session_id(self.scope), user_id)
        self.session = SessionService(
            engine=create_engine(),
            sink=self.deliver,
            transport=self.transport,
            user_id=user_id,
            client_ip=client_ip_from_scope(self.scope),
            session_id=session_id,
            explicit_turns=self.explicit_turns,
        )
        try:
            await self.session.open()
        except Exception:
            logger.exception("could not open session %s", session_id)
            await self.close(codes.CLOSE_INTERNAL)
            return False
        await self.join_session_group(session_id)
        return True

    async def disconnect(self, code: int) -> None:
        await self.leave_session_group()
        if self.ending is not None:
            await self.ending
        elif self.session is not None:
            await self.session.close("client_closed")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The gate of every message: size, then rate, then the wire's parse and dispatch."""
        if self.session is not None:
            self.session.counters["messages_in"] += 1
        elif not self.late_auth:
            return
        if too_large(text_data, bytes_data, settings.VOICE_MAX_MESSAGE_BYTES):
            await self.close(codes.CLOSE_TOO_LARGE)
            return
        rated = text_data is not None or self.rates_frames
        if rated and not await self.within_rate():
            return
        try:
            if text_data is not None:
                await self.on_text(text_data)
            else:
                await self.on_frame(bytes_data or b"")
        except ProtocolError as exc:
            await self.send_error(exc.code, exc.detail)

    async def within_rate(self) -> bool:
        """Whether the message may be handled; a flooding client is told once, then closed."""
        verdict = self.rate.check()
        if verdict is Verdict.CLOSE:
            await self.close(codes.CLOSE_RATE_LIMITED)
        elif verdict is Verdict.LIMITED:
            await self.send_error(codes.RATE_LIMITED, ev.RATE_LIMIT_MESSAGE)
        return verdict is Verdict.OK

    async def on_text(self, text: str) -> None:
        raise NotImplementedError

    async def on_frame(self, frame: bytes) -> None:
        raise NotImplementedError

    def render(self, event: ev.SessionEvent) -> list[Outgoing]:
        """The wire messages of a session event (none when the wire has no such message)."""
        raise NotImplementedError

    def render_error(self, code: str, message: str) -> dict[str, Any]:
        raise NotImplementedError

    async def deliver(self, event: ev.SessionEvent) -> None:
        """The session's sink: render an event, or close when the session ends."""
        if isinstance(event, ev.SessionEnded):
            await self.end_session(codes.CLOSE_CODES[event.ending], event.reason)
            return
        for message in self.render(event):
            await self.send_message(message)

    async def send_message(self, message: Outgoing) -> None:
        if self.session is not None:
            self.session.counters["messages_out"] += 1
        if isinstance(message, bytes):
            await self.send(bytes_data=message)
        else:
            await self.send(text_data=dump(message))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_message(self.render_error(code, message))

    async def end_session(self, close_code: int, reason: str) -> None:
        """The server ends the conversation: close the socket and release the session now.

        The session is closed from its own task: this may run inside the session's event pump,
        which closing cancels.
        """
        await self.close(close_code)
        if self.session is not None and self.ending is None:
            self.ending = asyncio.create_task(
                self.session.close(reason), name=f"session-end-{self.session.id}"
            )

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send, unless the client just went away (Daphne says so before the disconnect arrives)."""
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            logger.debug("dropped a message to a client that has gone")

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Skip Channels' per-message database check for frames and control messages.

        Channels closes stale database connections before every handler, through the one
        database thread: a thread hop per 20 ms audio frame of every session. Our ORM calls
        go through ``database_sync_to_async``, which does that check itself.
        """
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def join_session_group(self, session_id: uuid.UUID) -> None:
        """Join the session's group, so staff can end it from any server process."""
        self.control_group = session_group(session_id)
        try:
            await self.channel_layer.group_add(self.control_group, self.channel_name)
        except Exception:  # without the layer the session still works, just not remotely
            logger.warning("could not join %s", self.control_group, exc_info=True)
            self.control_group = None

    async def leave_session_group(self) -> None:
        if self.control_group is not None:
            try:
                await self.channel_layer.group_discard(self.control_group, self.channel_name)
            except Exception:
                logger.warning("could not leave %s", self.control_group, exc_info=True)

    async def voice_end_session(self, event: dict[str, Any]) -> None:
        """A staff member ended this session: close with 1000."""
        if self.session is not None:
            reason = str(event.get("reason", "ended_by_staff"))
            await self.session.end(ev.Ending.NORMAL, reason)

    async def voice_revoke_session(self, event: dict[str, Any]) -> None:
        """The user lost access (deactivated, password changed): close with 4401."""
        if self.session is not None:
            await self.session.end(ev.Ending.REVOKED, "revoked")
