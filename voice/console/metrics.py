"""Server-wide figures (PROTOCOL.md section 5) from the rows every server process writes.

Each live session adds its counters to its row every VOICE_HEARTBEAT_SECONDS and at close, so
sums over the table cover all processes, lagging the truth by at most one heartbeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from voice.models import Turn, VoiceSession
from voice.services.health import WINDOW as LATENCY_WINDOW

# peakConcurrentSessions looks this far back: a sweep over a bounded slice of the table.
PEAK_WINDOW = timedelta(hours=24)

# A running sum of +1 at each start and -1 at each end, ordered by time (ends first on a tie,
# so back-to-back sessions do not overlap); its maximum is the peak. Both SQLite (3.25+) and
# PostgreSQL have window functions, so the sweep runs in the database, returning one number.
_SWEEP_SQL = """
SELECT MAX(live) FROM (
    SELECT SUM(delta) OVER (ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS live
    FROM (
        SELECT started_at AS at, 1 AS delta FROM {table} WHERE started_at >= %s
        UNION ALL
        SELECT ended_at AS at, -1 AS delta FROM {table} WHERE ended_at >= %s
    ) events
) running
"""


class ServerMetrics(TypedDict):
    """The ``GET /api/metrics`` answer: exactly the fields PROTOCOL.md section 5 names."""

    totalConnections: int
    activeConnections: int
    totalFramesProcessed: int
    averageLatency: float
    peakConcurrentSessions: int
    audioFramesProcessed: int
    messagesSent: int
    messagesReceived: int
    errors: int


def peak_concurrent_sessions(since: datetime) -> int:
    """The most sessions open at one instant from ``since`` until now."""
    # Sessions already open at `since` are the sweep's starting level.
    carried = (
        VoiceSession.objects.filter(started_at__lt=since)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
        .count()
    )
    table = connection.ops.quote_name(VoiceSession._meta.db_table)
    bound = connection.ops.adapt_datetimefield_value(since)
    with connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL.format(table=table), [bound, bound])
        (rise,) = cursor.fetchone()
    return carried + max(rise or 0, 0)


def server_metrics(now: datetime | None = None) -> ServerMetrics:
    """Totals since the first recorded session; live count, latency and peak are recent."""
    now = now or timezone.now()
    # A row whose owner stopped beating is not live, even before the reaper closes it.
    fresh = now - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    totals = VoiceSession.objects.aggregate(
        connections=Count("id"),
        active=Count("id", filter=Q(ended_at__isnull=True, heartbeat_at__gte=fresh)),
        frames_in=Sum("frames_in", default=0),
        frames_out=Sum("frames_out", default=0),
        messages_in=Sum("messages_in", default=0),
        messages_out=Sum("messages_out", default=0),
        turn_errors=Sum("error_count", default=0),
        bad_frames=Sum("bad_frames", default=0),
    )
    # The same window and figure as /api/health's avgLatency, so the two never disagree.
    latency = Turn.objects.filter(started_at__gte=now - LATENCY_WINDOW).aggregate(
        mean=Avg("voice_to_voice_ms")
    )["mean"]
    return {
        "totalConnections": totals["connections"],
        "activeConnections": totals["active"],
        # Every WebSocket message handled, either way: audio and control alike.
        "totalFramesProcessed": totals["messages_in"] + totals["messages_out"],
        "averageLatency": round(latency or 0.0, 1),
        "peakConcurrentSessions": peak_concurrent_sessions(now - PEAK_WINDOW),
        # Audio chunks accepted from clients plus audio chunks sent to them.
        "audioFramesProcessed": totals["frames_in"] + totals["frames_out"],
        "messagesSent": totals["messages_out"],
        "messagesReceived": totals["messages_in"],
        # Turns that failed plus client audio frames dropped as malformed.
        "errors": totals["turn_errors"] + totals["bad_frames"],
    }
