"""Median and p95 latency of turns, per time bucket and per engine.

PostgreSQL computes them with ``percentile_cont``; other databases fetch the rows and this
module interpolates the same way. Either way at most MAX_ROWS of the newest turns are read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from voice.models import Turn, VoiceSession

# Column -> label. The first is the whole; the others are its stages (DESIGN.md budget).
STAGES = {
    "voice_to_voice_ms": "voice to voice",
    "stt_ms": "speech to text",
    "model_ms": "model",
    "synthesis_ms": "synthesis",
    "server_ms": "server-added",
}
QUANTILES = (0.5, 0.95)
MAX_ROWS = 50_000
# The range a page may ask for -> (bucket width, bucket count).
RANGES = {"1h": (timedelta(minutes=5), 12), "24h": (timedelta(hours=1), 24)}

Figures = dict[str, dict[float, float | None]]  # stage -> quantile -> ms


@dataclass
class Group:
    """The turns of one bucket or engine and their percentiles."""

    key: Any
    turns: int = 0
    figures: Figures = field(default_factory=lambda: _empty_figures())

    def get(self, stage: str, quantile: float) -> float | None:
        return self.figures[stage][quantile]


def _empty_figures() -> Figures:
    return {stage: dict.fromkeys(QUANTILES) for stage in STAGES}


def percentile(ordered: Sequence[float], quantile: float) -> float | None:
    """Linear interpolation between closest ranks: what ``percentile_cont`` computes."""
    if not ordered:
        return None
    position = quantile * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _python_groups(since: datetime, until: datetime, key_of: Any) -> dict[Any, Group]:
    turns = (
        Turn.objects.filter(started_at__gte=since, started_at__lt=until)
        .order_by("-started_at")
        .values_list("started_at", "session__engine", *STAGES)[:MAX_ROWS]
    )
    samples: dict[Any, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    counts: dict[Any, int] = defaultdict(int)
    for started_at, engine, *values in turns:
        key = key_of(started_at, engine)
        counts[key] += 1
        for stage, value in zip(STAGES, values, strict=True):
            if value is not None:
                samples[key][stage].append(value)
    groups = {}
    for key, count in counts.items():
        group = Group(key, count)
        for stage, values in samples[key].items():
            values.sort()
            for q in QUANTILES:
                group.figures[stage][q] = _rounded(percentile(values, q))
        groups[key] = group
    return groups


def _postgres_groups(
    since: datetime, until: datetime, key_sql: str, key_params: list[Any]
) -> dict[Any, Group]:
    turn, session = Turn._meta.db_table, VoiceSession._meta.db_table
    columns = ", ".join(
        f"percentile_cont({q}) WITHIN GROUP (ORDER BY t.{stage})"
        for stage in STAGES
        for q in QUANTILES
    )
    sql = (
        f"SELECT {key_sql} AS k, COUNT(*), {columns} FROM {turn} t "
        f"JOIN {session} s ON s.id = t.session_id WHERE t.id IN ("
        f"SELECT id FROM {turn} WHERE started_at >= %s AND started_at < %s "
        f"ORDER BY started_at DESC LIMIT %s) GROUP BY k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*key_params, since, until, MAX_ROWS])
        rows = cursor.fetchall()
    groups = {}
    for key, count, *values in rows:
        group = Group(key, count)
        pairs = iter(values)
        for stage in STAGES:
            for q in QUANTILES:
                group.figures[stage][q] = _rounded(next(pairs))
        groups[key] = group
    return groups


def window(range_name: str, now: datetime | None = None) -> tuple[datetime, timedelta, int]:
    """The first bucket's start, the bucket width and count; the last bucket holds ``now``."""
    step, count = RANGES[range_name]
    now = now or timezone.now()
    seconds = step.total_seconds()
    aligned = datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)
    return aligned - step * (count - 1), step, count


def by_bucket(range_name: str, now: datetime | None = None) -> list[Group]:
    """One group per time bucket of the range, oldest first; ``key`` is the bucket's start."""
    since, step, count = window(range_name, now)
    until = since + step * count
    seconds = step.total_seconds()
    if connection.vendor == "postgresql":
        key_sql = "FLOOR(EXTRACT(EPOCH FROM (t.started_at - %s)) / %s)::int"
        found = _postgres_groups(since, until, key_sql, [since, seconds])
    else:
        found = _python_groups(
            since, until, lambda started, _: int((started - since).total_seconds() // seconds)
        )
    return [_rekey(found.get(index), since + step * index) for index in range(count)]


def _rekey(group: Group | None, key: Any) -> Group:
    if group is None:
        return Group(key)
    group.key = key
    return group


def by_engine(range_name: str, now: datetime | None = None) -> list[Group]:
    """One group per engine that served turns in the range, by name."""
    since, step, count = window(range_name, now)
    until = since + step * count
    if connection.vendor == "postgresql":
        found = _postgres_groups(since, until, "s.engine", [])
    else:
        found = _python_groups(since, until, lambda _, engine: engine)
    return [found[name] for name in sorted(found)]


def for_values(values: Iterable[float]) -> dict[float, float | None]:
    """Both quantiles of some values (a helper for pages and tests)."""
    ordered = sorted(values)
    return {q: _rounded(percentile(ordered, q)) for q in QUANTILES}
