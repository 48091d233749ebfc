"""Rows of the live sessions table: one query per row, the same shape on the page and socket."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from voice.models import Turn, VoiceSession

# The live table shows at most this many sessions (oldest first); more means look in the admin.
MAX_LIVE_ROWS = 500

ROW_FIELDS = (
    "id",
    "user__username",
    "transport",
    "engine",
    "started_at",
    "ended_at",
    "heartbeat_at",
    "turn_count",
    "last_latency_ms",
    "open_turn",
)


class LiveRow(TypedDict):
    """One session as the console shows it (camelCase: it goes to the browser as JSON)."""

    id: str
    user: str
    transport: str
    engine: str
    startedAt: str  # ISO 8601 UTC
    turns: int
    lastLatencyMs: int | None
    state: str  # "in turn" | "idle" | "stale" | "ended"
    live: bool
    detailUrl: str
    endUrl: str


def _with_state(sessions: QuerySet[VoiceSession]) -> QuerySet[VoiceSession, dict[str, Any]]:
    # A correlated EXISTS keeps "is a turn open" inside the row's single query.
    open_turn = Turn.objects.filter(session=OuterRef("pk"), ended_at__isnull=True)
    return sessions.annotate(open_turn=Exists(open_turn)).values(*ROW_FIELDS)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _state(values: dict[str, Any], now: datetime) -> str:
    if values["ended_at"] is not None:
        return "ended"
    stale_before = now - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    if values["heartbeat_at"] is not None and values["heartbeat_at"] < stale_before:
        return "stale"  # its owner stopped beating; the reaper will close it
    return "in turn" if values["open_turn"] else "idle"


def to_row(values: dict[str, Any], now: datetime | None = None) -> LiveRow:
    """Shape one ``values()`` record as a ``LiveRow``."""
    session_id = str(values["id"])
    return {
        "id": session_id,
        "user": values["user__username"] or "anonymous",
        "transport": values["transport"],
        "engine": values["engine"],
        "startedAt": _iso(values["started_at"]),
        "turns": values["turn_count"],
        "lastLatencyMs": values["last_latency_ms"],
        "state": _state(values, now or timezone.now()),
        "live": values["ended_at"] is None,
        "detailUrl": reverse("console:session", args=[session_id]),
        "endUrl": reverse("console:end-session", args=[session_id]),
    }


def session_row(session_id: uuid.UUID | str) -> LiveRow | None:
    """The row of one session (one query), or None when there is no such session."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    values = _with_state(VoiceSession.objects.filter(pk=pk)).first()
    return to_row(values) if values is not None else None


def live_rows() -> list[LiveRow]:
    """Every live session, oldest first (one query)."""
    live = VoiceSession.objects.filter(ended_at__isnull=True).order_by("started_at")
    now = timezone.now()
    return [to_row(values, now) for values in _with_state(live)[:MAX_LIVE_ROWS]]
