"""Who may open a voice session, and under which session id."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from voice.services.ratelimit import Decision, check_connection
from voice.services.sessions import may_use_session_id
from voice.transports.client_ip import client_ip_from_scope

logger = logging.getLogger(__name__)


def proposed_session_id(scope: dict[str, Any]) -> str | None:
    """``/ws/<session_id>`` or ``?sessionId=``: what the client proposes."""
    from_path = scope.get("url_route", {}).get("kwargs", {}).get("session_id")
    if from_path:
        return str(from_path)
    raw: bytes = scope.get("query_string", b"")
    proposals = parse_qs(raw.decode("latin-1")).get("sessionId")
    return proposals[0] if proposals else None


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


async def admit_connection(scope: dict[str, Any]) -> bool:
    """Connection limits per user and per IP (PROTOCOL.md section 7)."""
    decision: Decision = await database_sync_to_async(check_connection)(
        user_id_of(scope), client_ip_from_scope(scope)
    )
    if not decision.allowed:
        logger.info("connection refused by limit %s", decision.key)
    return decision.allowed


def user_id_of(scope: dict[str, Any]) -> int | None:
    user = scope.get("user")
    return user.pk if user is not None and user.is_authenticated else None
