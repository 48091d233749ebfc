"""Rate limits over the ``RateLimitBucket`` ledger, shared by every process through the database.

Windows are fixed and aligned to the Unix epoch: a 60 s window starts at every whole UTC minute
and a day window at 00:00 UTC. A window's counter lives in one row, unique on (key, window
start). Counting is one conditional ``UPDATE ... SET count = count + cost WHERE count <= limit -
cost`` after an insert-if-missing, so concurrent callers (threads, processes, hosts) never
overspend a limit on PostgreSQL or SQLite. Sync ORM: consumers call it through
``database_sync_to_async``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F, Min, QuerySet
from django.utils import timezone

from voice.models import RateLimitBucket, TokenGrant, VoiceSession

logger = logging.getLogger(__name__)

MINUTE = 60
DAY = 86_400
# Expired windows are deleted when a process sees a new minute begin, at most this many rows at
# once (``manage.py prune_ratelimits`` removes the rest), so pruning never stalls a request.
PRUNE_BATCH = 1000
# How long a client refused for too many live sessions should wait before trying again.
SESSIONS_RETRY_AFTER = 5.0

# The minute this process last pruned in: housekeeping only, no user-visible state.
_pruned_minute = -1


@dataclass(frozen=True)
class Decision:
    """The answer of a limit: whether to go ahead, and when to come back if not."""

    allowed: bool
    retry_after: float  # seconds until the window that refused this resets; 0 when allowed
    remaining: int  # what is left in the window after this call
    limit: int
    key: str = ""  # the limit that decided (for logs), e.g. "keys:user:7"

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


def hit(key: str, limit: int, window_seconds: int, cost: int = 1) -> Decision:
    """Spend ``cost`` from ``key``'s current window if that keeps it within ``limit``."""
    now = time.time()
    start = int(now // window_seconds) * window_seconds
    resets_in = start + window_seconds - now
    row_key = _row_key(key, window_seconds)
    rows = _window(key, window_seconds, now)

    allowed = cost <= limit and _take(rows, limit, cost) == 1
    if not allowed and cost <= limit:
        # Missed: the window is full, or its row does not exist yet (or did not a moment ago:
        # a concurrent caller may have just created it). A full window costs two queries.
        count = rows.values_list("count", flat=True).first()
        if count is None:
            _create_window(row_key, start, window_seconds)
        if count is None or count <= limit - cost:
            allowed = _take(rows, limit, cost) == 1
    _maybe_prune(now)
    if not allowed:
        # DEBUG: a flood of refusals must not become a flood of log lines.
        logger.debug("rate limit %s reached (%d per %d s)", key, limit, window_seconds)
        return Decision(False, resets_in, 0, limit, key)
    count = rows.values_list("count", flat=True).first() or cost
    return Decision(True, 0.0, max(0, limit - count), limit, key)


def refund(key: str, window_seconds: int, cost: int = 1) -> None:
    """Give back ``cost`` spent by ``hit`` in the current window (a later check refused)."""
    rows = _window(key, window_seconds, time.time())
    rows.filter(count__gte=cost).update(count=F("count") - cost)


def _row_key(key: str, window_seconds: int) -> str:
    # The unique constraint is on (key, window_start) only: name the window size in the key so
    # a minute window and a day window of the same subject never share a row.
    return f"{key}/{window_seconds}s"


def _window(key: str, window_seconds: int, now: float) -> QuerySet[RateLimitBucket]:
    """The row (at most one) of ``key``'s window that contains ``now``."""
    start = datetime.fromtimestamp(int(now // window_seconds) * window_seconds, UTC)
    return RateLimitBucket.objects.filter(key=_row_key(key, window_seconds), window_start=start)


def _create_window(row_key: str, start: int, window_seconds: int) -> None:
    RateLimitBucket.objects.bulk_create(
        [
            RateLimitBucket(
                key=row_key,
                window_start=datetime.fromtimestamp(start, UTC),
                window_seconds=window_seconds,
                count=0,
                expires_at=datetime.fromtimestamp(start + window_seconds, UTC),
            )
        ],
        ignore_conflicts=True,  # another caller inserted it first: we both update that row
    )


def _take(rows: QuerySet[RateLimitBucket], limit: int, cost: int) -> int:
    # One statement: the row lock (PostgreSQL) or the write lock (SQLite) makes it atomic.
    return rows.filter(count__lte=limit - cost).update(count=F("count") + cost)


def hit_all(limits: Sequence[tuple[str, int, int, int]]) -> Decision:
    """Spend from every (key, limit, window, cost) or from none; the tightest answer wins."""
    spent: list[tuple[str, int, int]] = []
    decisions = []
    for key, limit, window, cost in limits:
        decision = hit(key, limit, window, cost)
        if not decision.allowed:
            for done_key, done_window, done_cost in spent:
                refund(done_key, done_window, done_cost)
            return decision
        spent.append((key, window, cost))
        decisions.append(decision)
    return min(decisions, key=lambda d: d.remaining / d.limit)


def _subjects(user_id: int | None, ip: str | None) -> list[str]:
    subjects = [f"user:{user_id}"] if user_id is not None else []
    if ip or not subjects:
        subjects.append(f"ip:{ip or 'unknown'}")
    return subjects


def check_key_mint(user_id: int | None, ip: str | None) -> Decision:
    """Ephemeral keys: ``VOICE_KEYS_PER_MINUTE_PER_USER`` per user and ``..._PER_IP`` per IP.

    A key opens a direct call the server does not see: it holds a live session until it
    expires, and none is minted once the day's audio is spent (PROTOCOL.md section 7).
    """
    refused = sessions_full(user_id, ip) or audio_spent(user_id, ip)
    if refused is not None:
        return refused
    limits = []
    if user_id is not None:
        limits.append((f"keys:user:{user_id}", settings.VOICE_KEYS_PER_MINUTE_PER_USER, MINUTE, 1))
    if ip or user_id is None:
        limits.append(
            (f"keys:ip:{ip or 'unknown'}", settings.VOICE_KEYS_PER_MINUTE_PER_IP, MINUTE, 1)
        )
    return hit_all(limits)


def check_connection(user_id: int | None, ip: str | None) -> Decision:
    """A connection counted at once: live sessions, then new connections per user and per IP.

    The sockets split this in two: ``check_handshake`` counts every handshake, authenticated or
    not, and ``check_session_open`` the rest once the user is known.
    """
    refused = sessions_full(user_id, ip)
    if refused is not None:
        return refused
    return hit_all([*_user_connection(user_id), _ip_connection(ip)])


def check_handshake(ip: str | None) -> Decision:
    """One WebSocket handshake: ``VOICE_CONNECTIONS_PER_MINUTE_PER_IP``, before any credential."""
    return hit_all([_ip_connection(ip)])


def check_session_open(user_id: int | None, ip: str | None) -> Decision:
    """A session opens on a counted handshake: live sessions, then connections per user."""
    refused = sessions_full(user_id, ip)
    if refused is not None:
        return refused
    limits = _user_connection(user_id)
    return hit_all(limits) if limits else Decision(True, 0.0, 1, 1)


def _ip_connection(ip: str | None) -> tuple[str, int, int, int]:
    return (f"conn:ip:{ip or 'unknown'}", settings.VOICE_CONNECTIONS_PER_MINUTE_PER_IP, MINUTE, 1)


def _user_connection(user_id: int | None) -> list[tuple[str, int, int, int]]:
    if user_id is None:
        return []
    return [(f"conn:user:{user_id}", settings.VOICE_CONNECTIONS_PER_MINUTE_PER_USER, MINUTE, 1)]


def sessions_full(user_id: int | None, ip: str | None) -> Decision | None:
    """The refusal when the user or the IP holds its cap of live sessions, else None.

    Live are socket sessions still open (``ended_at IS NULL``) and unexpired ephemeral keys.
    They are counted from rows rather than kept in a gauge: a crashed process cannot leak slots,
    because the stale-session reaper closes its rows and keys expire. The count is a read, so
    requests landing in the same instant may overshoot the cap by a few; the per-minute limits
    are exact.
    """
    now = timezone.now()
    # A row whose process stopped beating holds no slot, even before the reaper closes it.
    fresh = now - timedelta(seconds=settings.VOICE_SESSION_STALE_SECONDS)
    sockets = VoiceSession.objects.filter(ended_at__isnull=True, heartbeat_at__gte=fresh)
    keys = TokenGrant.objects.filter(expires_at__gt=now)
    caps: list[tuple[str, int | str | None, int]] = [
        ("user", user_id, settings.VOICE_MAX_SESSIONS_PER_USER)
    ]
    if ip:
        caps.append(("ip", ip, settings.VOICE_MAX_SESSIONS_PER_IP))
    for subject, value, cap in caps:
        if value is None:
            continue
        field = "user_id" if subject == "user" else "client_ip"
        held = sockets.filter(**{field: value}).count()
        grants = keys.filter(**{field: value})
        if held + grants.count() < cap:
            continue
        # A socket may end any moment; a key frees its slot when it expires.
        waits = [SESSIONS_RETRY_AFTER] if held else []
        earliest = grants.aggregate(at=Min("expires_at"))["at"]
        if earliest is not None:
            waits.append((earliest - now).total_seconds())
        return Decision(False, min(waits), 0, cap, f"sessions:{subject}:{value}")
    return None


def audio_spent(user_id: int | None, ip: str | None) -> Decision | None:
    """The refusal when less than a second of the day's audio is left, else None (a read)."""
    subject = _subjects(user_id, ip)[0]
    now = time.time()
    limit = settings.VOICE_AUDIO_SECONDS_PER_DAY
    used_ms = _window(f"audio_ms:{subject}", DAY, now).values_list("count", flat=True).first()
    if limit * 1000 - (used_ms or 0) >= 1000:
        return None
    return Decision(False, DAY - now % DAY, 0, limit, f"audio_ms:{subject}")


def check_utterance(user_id: int | None, ip: str | None) -> Decision:
    """One utterance (or typed message): ``VOICE_UTTERANCES_PER_MINUTE`` per user, else per IP."""
    subject = _subjects(user_id, ip)[0]
    return hit(f"utterances:{subject}", settings.VOICE_UTTERANCES_PER_MINUTE, MINUTE)


def spend_audio_seconds(user_id: int | None, ip: str | None, seconds: float) -> Decision:
    """Audio a user (else an IP) may stream per UTC day: ``VOICE_AUDIO_SECONDS_PER_DAY``.

    Counted in milliseconds so short utterances add up exactly; the ``Decision`` is in seconds.
    """
    subject = _subjects(user_id, ip)[0]
    limit = settings.VOICE_AUDIO_SECONDS_PER_DAY
    cost = max(0, round(seconds * 1000))
    decision = hit(f"audio_ms:{subject}", limit * 1000, DAY, cost)
    return Decision(
        decision.allowed, decision.retry_after, decision.remaining // 1000, limit, decision.key
    )


def prune_expired(batch: int | None = PRUNE_BATCH) -> int:
    """Delete windows that have ended (at most ``batch`` rows; None: all). Returns the count."""
    expired = RateLimitBucket.objects.filter(
        expires_at__lte=datetime.fromtimestamp(time.time(), UTC)
    )
    if batch is None:
        return expired.delete()[0]
    ids = list(expired.order_by().values_list("pk", flat=True)[:batch])
    return RateLimitBucket.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _maybe_prune(now: float) -> None:
    global _pruned_minute
    minute = int(now // MINUTE)
    if minute == _pruned_minute:
        return
    _pruned_minute = minute
    deleted = prune_expired()
    if deleted:
        logger.debug("pruned %d expired rate-limit windows", deleted)
