"""What both voice sockets share: session ids, the client's identity, opening a session."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from voice.engines import create_engine
from voice.services.ratelimit import check_connection
from voice.services.sessions import may_use_session_id
from voice.session.live import session_group
from voice.session.service import SessionService
from voice.transports.client_ip import client_ip_from_scope
from voice.transports.json_socket.parse import CLOSE_INTERNAL, CLOSE_NORMAL, CLOSE_RATE_LIMITED

logger = logging.getLogger(__name__)


def proposed_session_id(scope: dict[str, Any]) -> str | None:
    """``/ws/<session_id>`` or ``?sessionId=``: what the client proposes."""
    from_path = scope.get("url_route", {}).get("kwargs", {}).get("session_id")
    if from_path:
        return str(from_path)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("sessionId", [None])[0]


async def choose_session_id(proposal: str | None, user_id: int | None) -> uuid.UUID:
    """Keep a well-formed UUID not in use (or this user's ended session), else issue one."""
    if proposal:
        try:
            candidate = uuid.UUID(proposal)
        except ValueError:
            candidate = None
        if candidate and await database_sync_to_async(may_use_session_id)(candidate, user_id):
            return candidate
    return uuid.uuid4()


def too_large(text_data: str | None, bytes_data: bytes | None, limit: int) -> bool:
    """Whether a message is over ``limit`` bytes; text is encoded only when it could be."""
    if text_data is None:
        return len(bytes_data or b"") > limit
    # UTF-8 takes at most 4 bytes per character.
    return len(text_data) * 4 > limit and len(text_data.encode()) > limit


async def admit_connection(scope: dict[str, Any]) -> bool:
    """Connection limits per user and per IP (PROTOCOL.md section 7)."""
    decision = await database_sync_to_async(check_connection)(
        user_id_of(scope), client_ip_from_scope(scope)
    )
    if not decision.allowed:
        logger.info("connection refused by limit %s", decision.key)
    return decision.allowed


def user_id_of(scope: dict[str, Any]) -> int | None:
    user = scope.get("user")
    return user.pk if user is not None and user.is_authenticated else None


class SessionControl(AsyncWebsocketConsumer):
    """Joins the session's group so staff can end it from any server process."""

    session: Any = None
    control_group: str | None = None
    ending: asyncio.Task[None] | None = None

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
            await self.base_send({"type": "websocket.close", "code": CLOSE_INTERNAL})
        except Exception:  # the client may be gone already: the record below still matters
            logger.debug("could not send the internal-error close", exc_info=True)
        await self.leave_session_group()
        if self.ending is not None:
            await asyncio.gather(self.ending, return_exceptions=True)
        elif self.session is not None:
            await self.session.close("internal_error")

    async def open_session(self, transport: str, *, explicit_turns: bool) -> bool:
        """Apply the connection limits, then open a ``SessionService``; False if the socket closed."""
        if not await admit_connection(self.scope):
            await self.close(CLOSE_RATE_LIMITED)
            return False
        user_id = user_id_of(self.scope)
        session_id = await choose_session_id(proposed_session_id(self.scope), user_id)
        self.session = SessionService(
            engine=create_engine(),
            sink=self.deliver,
            transport=transport,
            user_id=user_id,
            client_ip=client_ip_from_scope(self.scope),
            session_id=session_id,
            explicit_turns=explicit_turns,
        )
        try:
            await self.session.open()
        except Exception:
            logger.exception("could not open session %s", session_id)
            await self.close(CLOSE_INTERNAL)
            return False
        await self.join_session_group(session_id)
        return True

    async def deliver(self, event: Any) -> None:
        raise NotImplementedError

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
            await self.session.end(CLOSE_NORMAL, str(event.get("reason", "ended_by_staff")))
