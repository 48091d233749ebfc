"""Health figures computed from what the database recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.utils import timezone

from voice.models import Turn, VoiceSession

WINDOW = timedelta(hours=1)
DEGRADED_ERROR_RATE = 0.05


def health_report() -> dict[str, Any]:
    """Live sessions, last hour's mean voice-to-voice latency and turn error rate."""
    now = timezone.now()
    # A row whose owner stopped beating is not live, even before the reaper closes it.
    fresh = now - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    active = VoiceSession.objects.filter(ended_at__isnull=True, heartbeat_at__gte=fresh).count()
    recent = Turn.objects.filter(started_at__gte=now - WINDOW).aggregate(
        total=Count("id"),
        errors=Count("id", filter=Q(end_reason=Turn.EndReason.ERROR)),
        latency=Avg("voice_to_voice_ms"),
    )
    error_rate = recent["errors"] / recent["total"] if recent["total"] else 0.0
    return {
        "status": "healthy" if error_rate < DEGRADED_ERROR_RATE else "degraded",
        "activeSessions": active,
        "avgLatency": round(recent["latency"] or 0.0, 1),
        "errorRate": round(error_rate, 4),
        "timestamp": now.isoformat().replace("+00:00", "Z"),
    }
