"""GET /api/metrics and GET /metrics: the figures of PROTOCOL.md section 5, from the rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import token_for
from voice.console.metrics import peak_concurrent_sessions, server_metrics
from voice.models import Turn, VoiceSession

pytestmark = pytest.mark.django_db

FIELDS = {
    "totalConnections",
    "activeConnections",
    "totalFramesProcessed",
    "averageLatency",
    "peakConcurrentSessions",
    "audioFramesProcessed",
    "messagesSent",
    "messagesReceived",
    "errors",
}


def make_session(started: datetime, ended: datetime | None = None, **fields: Any) -> VoiceSession:
    """A session row as a server process would leave it (started_at is auto_now_add)."""
    fields.setdefault("heartbeat_at", ended or timezone.now())
    session = VoiceSession.objects.create(transport="json", engine="local", **fields)
    VoiceSession.objects.filter(pk=session.pk).update(started_at=started, ended_at=ended)
    session.refresh_from_db()
    return session


def make_turn(session: VoiceSession, index: int, started: datetime, v2v: int | None) -> Turn:
    return Turn.objects.create(
        session=session, index=index, started_at=started, voice_to_voice_ms=v2v
    )


@pytest.fixture
def recorded() -> dict[str, Any]:
    """Two ended sessions of two processes, one live, one whose owner went silent."""
    now = timezone.now()
    a = make_session(
        now - timedelta(minutes=50),
        now - timedelta(minutes=40),
        frames_in=100,
        frames_out=40,
        messages_in=120,
        messages_out=70,
        error_count=1,
        bad_frames=2,
        owner="host-a:1:aaaa",
    )
    b = make_session(
        now - timedelta(minutes=45),
        now - timedelta(minutes=30),
        frames_in=10,
        frames_out=5,
        messages_in=15,
        messages_out=9,
        owner="host-b:2:bbbb",
    )
    live = make_session(now - timedelta(minutes=5), frames_in=7, messages_in=8, owner="host-b")
    make_session(
        now - timedelta(minutes=20),
        heartbeat_at=now - timedelta(minutes=10),  # owner dead, not reaped yet
        owner="host-c:3:cccc",
    )
    make_turn(a, 0, now - timedelta(minutes=49), 400)
    make_turn(a, 1, now - timedelta(minutes=48), 800)
    make_turn(b, 0, now - timedelta(minutes=44), None)  # cut short: no latency
    make_turn(live, 0, now - timedelta(hours=3), 5000)  # older than the latency window
    return {"now": now}


def test_the_figures_add_up_the_rows_of_every_process(recorded: dict[str, Any]) -> None:
    metrics = server_metrics(recorded["now"])

    assert set(metrics) == FIELDS
    assert metrics["totalConnections"] == 4
    assert metrics["activeConnections"] == 1
    assert metrics["messagesReceived"] == 120 + 15 + 8
    assert metrics["messagesSent"] == 70 + 9
    assert metrics["totalFramesProcessed"] == 120 + 15 + 8 + 70 + 9
    assert metrics["audioFramesProcessed"] == 100 + 40 + 10 + 5 + 7
    assert metrics["errors"] == 1 + 2
    assert metrics["averageLatency"] == 600.0
    # a and b overlap; so do the silent session (still open) and the live one.
    assert metrics["peakConcurrentSessions"] == 2


def test_an_empty_database_gives_zeros(db: None) -> None:
    metrics = server_metrics()

    assert metrics == dict.fromkeys(FIELDS, 0) | {"averageLatency": 0.0}


def test_the_peak_is_the_largest_overlap_of_session_intervals(db: None) -> None:
    t0 = timezone.now() - timedelta(hours=2)
    at = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
    make_session(at(-30), at(25))  # open before the window starts
    make_session(at(0), at(10))
    make_session(at(5), at(20))
    make_session(at(8), at(9))  # at 8-9: the first four overlap
    make_session(at(10), at(30))  # starts as one ends: not an overlap
    make_session(at(40))  # still open

    assert peak_concurrent_sessions(at(-1)) == 4
    assert peak_concurrent_sessions(at(21)) == 2
    assert peak_concurrent_sessions(at(35)) == 1


def test_back_to_back_sessions_do_not_overlap(db: None) -> None:
    t0 = timezone.now() - timedelta(hours=1)
    make_session(t0, t0 + timedelta(minutes=1))
    make_session(t0 + timedelta(minutes=1), t0 + timedelta(minutes=2))

    assert peak_concurrent_sessions(t0 - timedelta(minutes=1)) == 1


# ---- access ----------------------------------------------------------------------------------


def test_staff_read_the_json_with_a_jwt(client: Client, sam: User) -> None:
    response = client.get("/api/metrics", HTTP_AUTHORIZATION=f"Bearer {token_for(sam)}")

    assert response.status_code == 200
    assert set(response.json()) == FIELDS


def test_staff_read_the_json_with_their_admin_session(client: Client, sam: User) -> None:
    client.force_login(sam)

    assert client.get("/api/metrics").status_code == 200


@pytest.mark.parametrize("path", ["/api/metrics", "/metrics"])
def test_anonymous_callers_get_401(client: Client, path: str) -> None:
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("path", ["/api/metrics", "/metrics"])
def test_users_who_are_not_staff_get_403(client: Client, alice: User, path: str) -> None:
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}").status_code == 403
    client.force_login(alice)
    assert client.get(path).status_code == 403


# ---- Prometheus ------------------------------------------------------------------------------


def parse(text: str) -> dict[str, tuple[str, float]]:
    """Family name -> (type, value), through the official client's parser."""
    return {
        family.name: (family.type, family.samples[0].value)
        for family in text_string_to_metric_families(text)
    }


def test_prometheus_text_carries_the_same_figures(
    client: Client, sam: User, recorded: dict[str, Any]
) -> None:
    client.force_login(sam)

    response = client.get("/metrics", HTTP_ACCEPT="text/plain")
    families = parse(response.content.decode())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    expected = server_metrics()
    assert families == {
        "voice_connections": ("counter", expected["totalConnections"]),
        "voice_active_connections": ("gauge", expected["activeConnections"]),
        "voice_frames_processed": ("counter", expected["totalFramesProcessed"]),
        "voice_audio_frames_processed": ("counter", expected["audioFramesProcessed"]),
        "voice_messages_sent": ("counter", expected["messagesSent"]),
        "voice_messages_received": ("counter", expected["messagesReceived"]),
        "voice_errors": ("counter", expected["errors"]),
        "voice_average_latency_seconds": ("gauge", expected["averageLatency"] / 1000),
        "voice_peak_concurrent_sessions": ("gauge", expected["peakConcurrentSessions"]),
    }


def test_every_sample_has_help_and_type_lines(client: Client, sam: User) -> None:
    client.force_login(sam)

    lines = client.get("/metrics").content.decode().splitlines()

    samples = [line.split()[0] for line in lines if not line.startswith("#")]
    assert samples and all(name.startswith("voice_") for name in samples)
    for name in samples:
        assert f"# HELP {name} " in "\n".join(lines)
        assert any(line.startswith(f"# TYPE {name} ") for line in lines)


def test_a_configured_scrape_token_is_accepted(client: Client, settings: Any) -> None:
    settings.VOICE_METRICS_TOKEN = "scrape-secret-1"

    good = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-1")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-2")

    assert good.status_code == 200 and b"voice_connections_total" in good.content
    assert wrong.status_code == 401


def test_the_scrape_token_opens_only_the_prometheus_endpoint(client: Client, settings: Any) -> None:
    settings.VOICE_METRICS_TOKEN = "scrape-secret-1"

    response = client.get("/api/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-1")

    assert response.status_code == 401


def test_without_a_configured_token_no_bearer_string_opens_it(
    client: Client, settings: Any
) -> None:
    settings.VOICE_METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 401


def test_staff_jwt_still_works_when_a_token_is_configured(
    client: Client, sam: User, settings: Any
) -> None:
    settings.VOICE_METRICS_TOKEN = "scrape-secret-1"

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token_for(sam)}")

    assert response.status_code == 200
