"""Ending a live session on an operator's word, from the console or the admin."""

from __future__ import annotations

import logging
import uuid

from voice.services.sessions import end_session_by_staff
from voice.session.live import announce, request_end

logger = logging.getLogger(__name__)

DEFAULT_REASON = "ended_by_staff"
MAX_REASON_CHARS = 64  # VoiceSession.end_reason


def clean_reason(raw: str | None) -> str:
    """The operator's reason, trimmed to fit the row, or the default one."""
    reason = " ".join((raw or "").split())[:MAX_REASON_CHARS]
    return reason or DEFAULT_REASON


def end_live_session(session_id: uuid.UUID, staff_user_id: int, reason: str) -> bool:
    """Record who ended the session and why, then ask its owner to close it with 1000.

    False when the session was not live. Returns after the row is written; the socket closes
    when the owning process hears the request (or at its next heartbeat, without Redis).
    """
    if not end_session_by_staff(session_id, staff_user_id, reason):
        return False
    logger.info("session %s ended by staff user %s: %s", session_id, staff_user_id, reason)
    try:
        request_end(session_id, reason)
    except Exception:  # the owner still sees the ended row at its next heartbeat
        logger.warning("could not ask the owner of %s to close", session_id, exc_info=True)
    # Viewers drop the row now, even when its owner is gone and will never announce the close.
    announce(session_id, "ended_by_staff")
    return True
