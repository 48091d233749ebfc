"""Live changes of sessions, fanned out over the channel layer (Redis across processes).

``voice.console`` receives a ``voice.session_changed`` event whenever a session opens, finishes
a turn or closes; ``voice.session.<id>`` reaches the consumer that owns a session.
"""

from __future__ import annotations

import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

CONSOLE_GROUP = "voice.console"


def session_group(session_id: uuid.UUID | str) -> str:
    return f"voice.session.{session_id}"


async def aannounce(session_id: uuid.UUID | str, change: str) -> None:
    """Tell console viewers that a session changed."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            CONSOLE_GROUP,
            {"type": "voice.session_changed", "session_id": str(session_id), "change": change},
        )
    except Exception:  # a dead channel layer must not end the conversation
        logger.warning("could not announce %s of session %s", change, session_id, exc_info=True)


def announce(session_id: uuid.UUID | str, change: str) -> None:
    """``aannounce`` for sync code (views, admin actions)."""
    async_to_sync(aannounce)(session_id, change)


def request_end(session_id: uuid.UUID, reason: str) -> None:
    """Ask the process that owns a session to close it (sync)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        session_group(session_id), {"type": "voice.end_session", "reason": reason}
    )


def request_revoke(session_ids: list[uuid.UUID]) -> None:
    """Ask the processes that own these sessions to close them with 4401 (sync).

    Their user lost access; a lost request is caught by the session's own heartbeat.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    for session_id in session_ids:
        try:
            async_to_sync(layer.group_send)(
                session_group(session_id), {"type": "voice.revoke_session"}
            )
        except Exception:  # a user's save must not fail for want of the channel layer
            logger.warning("could not ask to end session %s", session_id, exc_info=True)
