"""Console pages for staff: live sessions, one session's turns, latency charts; ending a session."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.requests import SignedInRequest
from voice.console import charts, latency
from voice.console.control import DEFAULT_REASON, clean_reason, end_live_session
from voice.models import VoiceSession

# A session page draws at most this many turns; the admin lists them all.
MAX_TURNS = 200
# strftime formats for the buckets' axis labels, per range.
LABEL_FORMATS = {"1h": "%H:%M", "24h": "%H:00"}


@staff_member_required
def index(request: HttpRequest) -> HttpResponse:
    """The live sessions table; its rows arrive over the console socket."""
    context = {"socket_path": "/console/ws", "default_reason": DEFAULT_REASON}
    return render(request, "console/index.html", context)


@staff_member_required
def session_detail(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """One session: its facts, its turns as a stage timeline, and their texts."""
    session = get_object_or_404(
        VoiceSession.objects.select_related("user", "ended_by"), pk=session_id
    )
    turns = list(session.turns.order_by("index")[:MAX_TURNS])
    measured = [t.voice_to_voice_ms for t in turns if t.voice_to_voice_ms is not None]
    v2v = latency.for_values(measured)
    context = {
        "session": session,
        "turns": turns,
        "shown_all": len(turns) >= session.turn_count,
        "timeline": charts.turn_timeline(turns),
        "v2v_median": v2v[0.5],
        "v2v_p95": v2v[0.95],
        "default_reason": DEFAULT_REASON,
    }
    return render(request, "console/session.html", context)


@staff_member_required
@require_POST
def end_session(request: SignedInRequest, session_id: uuid.UUID) -> HttpResponse:
    """End a live session: record who and why, and have its owner close it with 1000."""
    session = get_object_or_404(VoiceSession.objects.only("pk"), pk=session_id)
    reason = clean_reason(request.POST.get("reason"))
    ended = end_live_session(session.pk, request.user.pk, reason)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ended": ended, "reason": reason}, status=200 if ended else 409)
    if ended:
        messages.success(request, f"Ended session {session.pk} ({reason}).")
    else:
        messages.warning(request, f"Session {session.pk} had already ended.")
    return redirect("console:index")


def _table(groups: Sequence[latency.Group], label: Callable[[Any], str]) -> list[dict[str, Any]]:
    """Rows of a chart's data table: its label, turn count and each stage's two quantiles."""
    return [
        {
            "label": label(group.key),
            "turns": group.turns,
            "values": [group.get(s, q) for s in latency.STAGES for q in latency.QUANTILES],
        }
        for group in groups
    ]


@staff_member_required
def latency_view(request: HttpRequest) -> HttpResponse:
    """Median and p95 latency of each stage over time and per engine."""
    range_name = request.GET.get("range", "24h")
    if range_name not in latency.RANGES:
        range_name = "24h"
    buckets = latency.by_bucket(range_name)
    engines = latency.by_engine(range_name)
    label_format = LABEL_FORMATS[range_name]
    context = {
        "range_name": range_name,
        "ranges": list(latency.RANGES),
        "bucket_rows": _table(buckets, lambda start: start.strftime("%Y-%m-%d %H:%M")),
        "engine_rows": _table(engines, str),
        "stages": latency.STAGES.values(),
        "over_time": [charts.over_time(buckets, stage, label_format) for stage in latency.STAGES],
        "per_engine": charts.per_engine(engines),
        "step_minutes": int(latency.RANGES[range_name][0].total_seconds() // 60),
    }
    return render(request, "console/latency.html", context)
