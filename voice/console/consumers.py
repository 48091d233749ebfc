"""``/console/ws``: pushes live-session rows to staff viewers as sessions change anywhere."""

from __future__ import annotations

import logging
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.sessions import SessionMiddlewareStack

from voice.console.rows import live_rows, session_row
from voice.session.live import CONSOLE_GROUP
from voice.transports.codes import CLOSE_FORBIDDEN

logger = logging.getLogger(__name__)


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """One console viewer: a snapshot on connect, then a row per ``voice.session_changed``.

    The viewer never polls; each announced change costs one query per viewer.
    """

    joined = False

    async def connect(self) -> None:
        user = await self.viewer()
        if not user.is_authenticated:
            await self.close()  # before accept: Daphne refuses the handshake with HTTP 403
            return
        await self.accept()
        if not (user.is_active and user.is_staff):
            await self.close(CLOSE_FORBIDDEN)
            return
        # Join before the snapshot so no change falls between the two; replays are harmless.
        await self.channel_layer.group_add(CONSOLE_GROUP, self.channel_name)
        self.joined = True
        rows = await database_sync_to_async(live_rows)()
        await self.send_json({"type": "snapshot", "rows": rows})

    async def viewer(self) -> Any:
        """A staff JWT at the handshake, else the Django session's user."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return user
        return await get_user(self.scope)

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(CONSOLE_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page pings now and then: re-join, since Redis forgets group members after a day."""
        if isinstance(content, dict) and content.get("type") == "ping" and self.joined:
            await self.channel_layer.group_add(CONSOLE_GROUP, self.channel_name)
            await self.send_json({"type": "pong"})

    async def voice_session_changed(self, event: dict[str, Any]) -> None:
        """A session opened, took a turn or closed on some server process."""
        session_id = str(event.get("session_id", ""))
        try:
            row = await database_sync_to_async(session_row)(session_id)
        except Exception:  # one bad event must not cut the viewer off
            logger.exception("could not load console row of session %s", session_id)
            return
        if row is None or not row["live"]:
            await self.send_json({"type": "removed", "id": session_id})
        else:
            await self.send_json({"type": "row", "row": row, "change": event.get("change")})


# The console authenticates by the Django session cookie, so only its route gets the stack.
console_socket = SessionMiddlewareStack(ConsoleConsumer.as_asgi())
