"""GET /api/health and GET /api/schema/."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from devtools.servers import DaphneServer
from voice.models import Turn, VoiceSession

pytestmark = pytest.mark.django_db


def make_turn(session: VoiceSession, index: int, latency: int, reason: str) -> Turn:
    return Turn.objects.create(
        session=session,
        index=index,
        started_at=timezone.now(),
        voice_to_voice_ms=latency,
        end_reason=reason,
    )


def test_health_is_healthy_and_empty_on_a_fresh_database(client: Client) -> None:
    body = client.get("/api/health").json()

    assert body["status"] == "healthy"
    assert body["activeSessions"] == 0
    assert body["avgLatency"] == 0.0
    assert body["errorRate"] == 0.0
    assert body["timestamp"].endswith("Z")


def test_health_reports_recorded_figures(client: Client) -> None:
    now = timezone.now()
    live = VoiceSession.objects.create(transport="json", engine="local", heartbeat_at=now)
    VoiceSession.objects.create(transport="json", engine="local", ended_at=now, heartbeat_at=now)
    VoiceSession.objects.create(
        transport="json", engine="local", heartbeat_at=now - timedelta(minutes=5)
    )  # its process died: not live
    make_turn(live, 0, 400, "completed")
    make_turn(live, 1, 800, "completed")

    body = client.get("/api/health").json()

    assert body["activeSessions"] == 1
    assert body["avgLatency"] == 600.0
    assert body["status"] == "healthy"


def test_health_is_degraded_when_turns_fail(client: Client) -> None:
    session = VoiceSession.objects.create(transport="json", engine="local")
    for index in range(9):
        make_turn(session, index, 500, "completed")
    make_turn(session, 9, 500, "error")

    body = client.get("/api/health").json()

    assert body["errorRate"] == 0.1
    assert body["status"] == "degraded"


def test_health_ignores_turns_older_than_an_hour(client: Client) -> None:
    session = VoiceSession.objects.create(transport="json", engine="local")
    old = make_turn(session, 0, 900, "error")
    Turn.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(hours=2))

    body = client.get("/api/health").json()

    assert body["errorRate"] == 0.0
    assert body["status"] == "healthy"


def test_schema_is_an_openapi_document(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    document = json.loads(response.content)
    assert response.status_code == 200
    assert document["openapi"].startswith("3.")
    assert "/api/health" in document["paths"]
    assert "/api/auth/token/" in document["paths"]


def test_health_answers_through_a_real_daphne(daphne_server: DaphneServer) -> None:
    with urllib.request.urlopen(f"{daphne_server.http_url}/api/health", timeout=10) as response:
        body = json.loads(response.read())

    assert response.status == 200
    assert body["status"] == "healthy"
