"""Who may open a voice session, and under which session id; handshakes and sockets waiting for
``auth`` per IP (PROTOCOL.md section 7)."""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from voice.services.ratelimit import Decision, check_handshake, check_session_open
from voice.services.sessions import may_use_session_id
from voice.transports.client_ip import client_ip_from_scope

logger = logging.getLogger(__name__)

# Seconds an auth-wait place outlives the auth timeout (clock skew, a slow close).
AUTH_WAIT_MARGIN_SECONDS = 2


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


async def count_handshake(scope: dict[str, Any]) -> bool:
    """Count a handshake toward new connections per IP, whatever its credentials."""
    decision: Decision = await database_sync_to_async(check_handshake)(client_ip_from_scope(scope))
    if not decision.allowed:
        # DEBUG: a flood of handshakes must not become a flood of log lines.
        logger.debug("handshake refused by limit %s", decision.key)
    return decision.allowed


async def admit_connection(scope: dict[str, Any]) -> bool:
    """Session limits per user and per IP of a counted handshake (PROTOCOL.md section 7)."""
    decision: Decision = await database_sync_to_async(check_session_open)(
        user_id_of(scope), client_ip_from_scope(scope)
    )
    if not decision.allowed:
        logger.info("connection refused by limit %s", decision.key)
    return decision.allowed


class AuthWaitSlot:
    """One of the ``VOICE_MAX_AUTH_WAITING_PER_IP`` places of an IP for sockets awaiting ``auth``.

    Places are keys of the shared cache (Redis across processes), each taken with an atomic
    add-if-absent and expiring on its own a little after the auth timeout: a process that dies
    holding places leaks none of them for longer than that.
    """

    def __init__(self) -> None:
        self.key: str | None = None

    async def take(self, scope: dict[str, Any]) -> bool:
        """Take a free place of the client's IP; False when every place is held."""
        ip = client_ip_from_scope(scope) or "unknown"
        places = range(settings.VOICE_MAX_AUTH_WAITING_PER_IP)
        keys = [f"voice:auth-wait:{ip}:{n}" for n in places]
        held = await cache.aget_many(keys)
        # Outlives the wait it guards, so it only ever expires under a process that died.
        lifetime = math.ceil(settings.VOICE_AUTH_TIMEOUT) + AUTH_WAIT_MARGIN_SECONDS
        for key in keys:
            if key not in held and await cache.aadd(key, 1, timeout=lifetime):
                self.key = key
                return True
        logger.debug("socket refused: %s holds every auth-wait place", ip)
        return False

    async def release(self) -> None:
        """Give the place back (on auth, timeout or close); safe to call twice."""
        key, self.key = self.key, None
        if key is not None:
            await cache.adelete(key)


def user_id_of(scope: dict[str, Any]) -> int | None:
    user = scope.get("user")
    return user.pk if user is not None and user.is_authenticated else None
