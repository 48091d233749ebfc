"""Session and turn records (sync ORM; consumers call these through database_sync_to_async)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from voice.models import Turn, VoiceSession

logger = logging.getLogger(__name__)

# Names this server process in session rows, so rows left open by a dead process can be found.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def session_id_in_use(session_id: uuid.UUID) -> bool:
    return VoiceSession.objects.filter(pk=session_id).exists()


def open_session(
    session_id: uuid.UUID,
    *,
    user_id: int | None,
    transport: str,
    engine: str,
    client_ip: str | None,
) -> VoiceSession:
    now = timezone.now()
    return VoiceSession.objects.create(
        id=session_id,
        user_id=user_id,
        transport=transport,
        engine=engine,
        client_ip=client_ip,
        owner=PROCESS_ID,
        heartbeat_at=now,
    )


def beat(session_id: uuid.UUID, counters: dict[str, int]) -> bool:
    """Refresh the heartbeat and add the counters; False when the session was ended elsewhere."""
    increments = {name: F(name) + value for name, value in counters.items() if value}
    if increments:  # counted even if staff ended the session meanwhile
        VoiceSession.objects.filter(pk=session_id).update(**increments)
    live = VoiceSession.objects.filter(pk=session_id, ended_at__isnull=True)
    return bool(live.update(heartbeat_at=timezone.now()))


def update_config(session_id: uuid.UUID, config: dict[str, Any]) -> None:
    VoiceSession.objects.filter(pk=session_id).update(config=config)


def close_session(
    session_id: uuid.UUID,
    reason: str,
    counters: dict[str, int] | None = None,
    figures: dict[str, Any] | None = None,
) -> None:
    """End the session and any turn still open (its end reason: disconnected).

    ``counters`` are added to the row's; ``figures`` (relay times) are stored even when staff
    ended the session first.
    """
    now = timezone.now()
    increments = {name: F(name) + value for name, value in (counters or {}).items() if value}
    rows = VoiceSession.objects.filter(pk=session_id)
    if increments or figures:
        rows.update(**increments, **(figures or {}))
    rows.filter(ended_at__isnull=True).update(ended_at=now, end_reason=reason[:64])
    Turn.objects.filter(session_id=session_id, ended_at__isnull=True).update(
        ended_at=now, end_reason=Turn.EndReason.DISCONNECTED
    )


def end_session_by_staff(session_id: uuid.UUID, staff_user_id: int, reason: str) -> bool:
    """Mark a live session ended by an operator; its owner closes the socket on its next beat."""
    return bool(
        VoiceSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason[:64], ended_by_id=staff_user_id
        )
    )


def start_turn(session_id: uuid.UUID, index: int, input_kind: str, started_at: datetime) -> int:
    turn = Turn.objects.create(
        session_id=session_id, index=index, input_kind=input_kind, started_at=started_at
    )
    VoiceSession.objects.filter(pk=session_id).update(turn_count=F("turn_count") + 1)
    return turn.pk


def finish_turn(turn_id: int, fields: dict[str, Any]) -> None:
    Turn.objects.filter(pk=turn_id).update(**fields)
    latency = fields.get("voice_to_voice_ms")
    if latency is not None:
        VoiceSession.objects.filter(turns__pk=turn_id).update(last_latency_ms=latency)
    if fields.get("end_reason") == Turn.EndReason.ERROR:
        VoiceSession.objects.filter(turns__pk=turn_id).update(error_count=F("error_count") + 1)


def reap_stale_sessions(now: datetime | None = None) -> int:
    """Close sessions whose owning process stopped beating (killed, or lost its Redis)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    stale = list(
        VoiceSession.objects.filter(ended_at__isnull=True, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for session_id in stale:
        close_session(session_id, "owner_lost")
    if stale:
        logger.warning("closed %d sessions left open by a dead process", len(stale))
    return len(stale)
