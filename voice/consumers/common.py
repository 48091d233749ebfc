"""What both voice sockets share: session ids, the client's identity, opening a session."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from voice.services.sessions import session_id_in_use


def proposed_session_id(scope: dict[str, Any]) -> str | None:
    """``/ws/<session_id>`` or ``?sessionId=``: what the client proposes."""
    from_path = scope.get("url_route", {}).get("kwargs", {}).get("session_id")
    if from_path:
        return str(from_path)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("sessionId", [None])[0]


async def choose_session_id(proposal: str | None) -> uuid.UUID:
    """Keep a well-formed UUID not already in use, else issue a new one."""
    if proposal:
        try:
            candidate = uuid.UUID(proposal)
        except ValueError:
            candidate = None
        if candidate and not await database_sync_to_async(session_id_in_use)(candidate):
            return candidate
    return uuid.uuid4()


def peer_ip(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def user_id_of(scope: dict[str, Any]) -> int | None:
    user = scope.get("user")
    return user.pk if user is not None and user.is_authenticated else None
