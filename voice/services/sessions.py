"""Session and turn records (sync ORM; consumers call these through database_sync_to_async)."""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from voice.models import Turn, VoiceSession

logger = logging.getLogger(__name__)

HISTORY_TURNS = 10  # exchanges replayed to the engine when a conversation resumes
_last_reap = -math.inf  # when this process last looked for sessions of dead processes

# Names this server process in session rows, so rows left open by a dead process can be found.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def may_use_session_id(session_id: uuid.UUID, user_id: int | None) -> bool:
    """A proposed id is free, or names this user's session that is no longer live (resumed)."""
    row = VoiceSession.objects.filter(pk=session_id).values("user_id", "ended_at", "heartbeat_at")
    found = row.first()
    if found is None:
        return True
    stale = timezone.now() - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    live = found["ended_at"] is None and (found["heartbeat_at"] or stale) > stale
    return not live and user_id is not None and found["user_id"] == user_id


@dataclass(frozen=True)
class Opened:
    """A session row ready for use: where its turn numbering goes on, and what was said."""

    next_turn: int
    history: tuple[tuple[str, str], ...]
    credentials: str = ""  # the user's ``credentials_of`` at open; "" for anonymous sessions


class Beat(Enum):
    """What a heartbeat found; the value is the end reason recorded when it is not ``LIVE``."""

    LIVE = "live"
    ENDED = "ended_by_staff"  # the row was ended elsewhere
    REVOKED = "revoked"  # its user was deactivated, deleted or changed password


def credentials_of(user_id: int | None) -> str:
    """A fingerprint of what lets the user in: empty once inactive or gone, new with a password.

    Compared at each heartbeat, it catches changes that bypass model signals
    (``queryset.update``); a keyed hash, so the password hash itself is never kept.
    """
    if user_id is None:
        return ""
    row = get_user_model().objects.filter(pk=user_id, is_active=True).values("password").first()
    if row is None:
        return ""
    return salted_hmac("voice.session.credentials", row["password"]).hexdigest()


def open_session(
    session_id: uuid.UUID,
    *,
    user_id: int | None,
    transport: str,
    engine: str,
    client_ip: str | None,
) -> Opened:
    """Create the session's row, or reopen it when the client resumes a conversation."""
    fields = {
        "user_id": user_id,
        "transport": transport,
        "engine": engine,
        "client_ip": client_ip,
        "owner": PROCESS_ID,
        "heartbeat_at": timezone.now(),
        "ended_at": None,
        "end_reason": "",
        "ended_by": None,
    }
    credentials = credentials_of(user_id)
    _, created = VoiceSession.objects.update_or_create(id=session_id, defaults=fields)
    if created:
        return Opened(0, (), credentials)
    Turn.objects.filter(session_id=session_id, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=Turn.EndReason.DISCONNECTED
    )
    last = Turn.objects.filter(session_id=session_id).aggregate(last=Max("index"))["last"]
    return Opened(0 if last is None else last + 1, recent_history(session_id), credentials)


def recent_history(
    session_id: uuid.UUID, turns: int = HISTORY_TURNS
) -> tuple[tuple[str, str], ...]:
    """The last exchanges of a session, oldest first, as (role, text) for an engine to replay."""
    rows = (
        Turn.objects.filter(session_id=session_id)
        .exclude(user_text="")
        .order_by("-index")
        .values_list("user_text", "assistant_text")[:turns]
    )
    history: list[tuple[str, str]] = []
    for user_text, assistant_text in reversed(rows):
        history.append(("user", user_text))
        if assistant_text:
            history.append(("assistant", assistant_text))
    return tuple(history)


def beat(session_id: uuid.UUID, counters: dict[str, int], credentials: str = "") -> Beat:
    """Refresh the heartbeat and add the counters; say whether the session may go on.

    ``credentials`` (from ``Opened``) are checked against the user's own: a session outlives
    its token but not its user's access (PROTOCOL.md section 1).
    """
    increments = {name: F(name) + value for name, value in counters.items() if value}
    live = VoiceSession.objects.filter(pk=session_id, ended_at__isnull=True)
    if not live.update(heartbeat_at=timezone.now(), **increments):
        if increments:  # staff ended it meanwhile: the counters still count
            VoiceSession.objects.filter(pk=session_id).update(**increments)
        return Beat.ENDED
    if credentials:
        user_id = live.values_list("user_id", flat=True).first()
        if credentials_of(user_id) != credentials:
            return Beat.REVOKED
    return Beat.LIVE


def live_session_ids(user_id: int) -> list[uuid.UUID]:
    """The user's sessions that are still open, on any process."""
    rows = VoiceSession.objects.filter(user_id=user_id, ended_at__isnull=True)
    return list(rows.values_list("pk", flat=True))


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


def finish_turn(turn_id: int | None, fields: dict[str, Any]) -> None:
    """Write a turn's end; nothing when its start was never written (``turn_id`` None)."""
    if turn_id is None:
        return  # a filter on None would match the sessions that have no turns
    Turn.objects.filter(pk=turn_id).update(**fields)
    latency = fields.get("voice_to_voice_ms")
    if latency is not None:
        VoiceSession.objects.filter(turns__pk=turn_id).update(last_latency_ms=latency)
    if fields.get("end_reason") == Turn.EndReason.ERROR:
        VoiceSession.objects.filter(turns__pk=turn_id).update(error_count=F("error_count") + 1)


def reap_if_due() -> None:
    """Run the reaper at most once per stale period in this process (housekeeping only)."""
    global _last_reap
    now = time.monotonic()
    if now - _last_reap >= settings.VOICE_SESSION_STALE_SECONDS:
        _last_reap = now
        reap_stale_sessions()


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
