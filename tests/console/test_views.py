"""Console pages: who may see them, what they show, and the latency figures behind the charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from voice.console import latency
from voice.console.rows import live_rows, session_row
from voice.models import Turn, VoiceSession

pytestmark = pytest.mark.django_db

PAGES = ["/console/", "/console/latency/", "/console/latency/?range=1h"]


def make_session(engine: str = "openai-pipeline", **fields: Any) -> VoiceSession:
    return VoiceSession.objects.create(transport="json", engine=engine, **fields)


@pytest.mark.parametrize("path", PAGES)
def test_staff_see_the_console_pages(client: Client, sam: User, path: str) -> None:
    client.force_login(sam)

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_admin_login(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/console/")


def test_users_who_are_not_staff_are_sent_to_the_admin_login(client: Client, alice: User) -> None:
    client.force_login(alice)

    response = client.get("/console/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_console_page_links_to_the_admin_and_its_socket(client: Client, sam: User) -> None:
    client.force_login(sam)

    page = client.get("/console/").content.decode()

    assert 'href="/admin/"' in page
    assert 'data-socket="/console/ws"' in page
    assert "console/console.js" in page


def test_the_admin_links_to_the_console(client: Client, sam: User) -> None:
    sam.is_superuser = True
    sam.save()
    client.force_login(sam)

    page = client.get("/admin/").content.decode()

    assert 'href="/console/"' in page and "Live console" in page


def test_a_session_page_shows_its_turns_timeline_and_texts(client: Client, sam: User) -> None:
    session = make_session(turn_count=2)
    now = timezone.now()
    Turn.objects.create(
        session=session,
        index=0,
        started_at=now,
        stt_ms=120,
        model_ms=300,
        synthesis_ms=200,
        server_ms=3,
        voice_to_voice_ms=623,
        user_text="what does it cost",
        assistant_text="Ten euros & <b>tax</b>",
        end_reason="completed",
    )
    Turn.objects.create(session=session, index=1, started_at=now, input_kind="text")
    client.force_login(sam)

    page = client.get(f"/console/sessions/{session.pk}/").content.decode()

    assert "what does it cost" in page
    assert "Ten euros &amp; &lt;b&gt;tax&lt;/b&gt;" in page
    assert page.count('class="pygal-chart"') == 1
    assert "turn 0" in page and "speech to text" in page
    assert "median 623.0 ms" in page


def test_an_unknown_session_page_is_404(client: Client, sam: User) -> None:
    client.force_login(sam)

    assert client.get("/console/sessions/0b9e1a7e-0000-4000-8000-000000000000/").status_code == 404


def test_the_latency_page_draws_charts_without_outside_scripts(client: Client, sam: User) -> None:
    session = make_session()
    Turn.objects.create(session=session, index=0, started_at=timezone.now(), voice_to_voice_ms=900)
    client.force_login(sam)

    page = client.get("/console/latency/").content.decode()

    assert page.count('class="pygal-chart"') == len(latency.STAGES) + 1
    assert "kozea.github.io" not in page and "<script" not in page.split("</main>")[0]
    assert 'role="img"' in page


def test_a_console_row_costs_one_query(alice: User, django_assert_num_queries: Any) -> None:
    session = make_session(user=alice)
    make_session(user=alice)

    with django_assert_num_queries(1):
        row = session_row(session.pk)
    with django_assert_num_queries(1):
        rows = live_rows()

    assert row is not None and row["user"] == "alice" and row["state"] == "idle"
    assert len(rows) == 2


def test_a_session_with_an_open_turn_is_in_a_turn(alice: User) -> None:
    session = make_session(user=alice)
    Turn.objects.create(session=session, index=0, started_at=timezone.now())

    row = session_row(session.pk)

    assert row is not None and row["state"] == "in turn"


def test_a_session_whose_owner_went_silent_is_stale(settings: Any) -> None:
    settings.VOICE_SESSION_STALE_SECONDS = 30
    session = make_session(heartbeat_at=timezone.now() - timedelta(seconds=60))

    row = session_row(session.pk)

    assert row is not None and row["state"] == "stale" and row["live"]


# ---- the figures ---------------------------------------------------------------------------


def reference(values: list[float]) -> dict[float, float | None]:
    """numpy's linear percentile, which is what percentile_cont computes."""
    if not values:
        return dict.fromkeys(latency.QUANTILES)
    return {q: round(float(np.percentile(values, q * 100)), 1) for q in latency.QUANTILES}


def seed_turns(now: datetime) -> dict[str, Any]:
    """Turns of two engines spread over the last hours, with some stages missing."""
    rng = np.random.default_rng(6)
    engines = {name: make_session(name) for name in ("openai-pipeline", "openai-realtime")}
    rows: list[dict[str, Any]] = []
    for i in range(90):
        engine = "openai-pipeline" if i % 3 else "openai-realtime"
        started = now - timedelta(minutes=int(rng.integers(0, 23 * 60)))
        stages = {
            "stt_ms": None if i % 7 == 0 else int(rng.integers(50, 400)),
            "model_ms": int(rng.integers(100, 900)),
            "synthesis_ms": int(rng.integers(80, 500)),
            "server_ms": int(rng.integers(0, 10)),
        }
        v2v = sum(v for v in stages.values() if v is not None)
        fields = {**stages, "voice_to_voice_ms": None if i % 11 == 0 else v2v}
        Turn.objects.create(session=engines[engine], index=i, started_at=started, **fields)
        rows.append({"engine": engine, "started_at": started, **fields})
    return {"rows": rows}


def test_per_engine_percentiles_agree_with_the_rows(db: None) -> None:
    now = timezone.now()
    rows = seed_turns(now)["rows"]

    groups = {group.key: group for group in latency.by_engine("24h", now)}

    assert set(groups) == {"openai-pipeline", "openai-realtime"}
    for engine, group in groups.items():
        mine = [row for row in rows if row["engine"] == engine]
        assert group.turns == len(mine)
        for stage in latency.STAGES:
            values = [row[stage] for row in mine if row[stage] is not None]
            assert group.figures[stage] == pytest.approx(reference(values), abs=0.11)


def test_hourly_percentiles_agree_with_the_rows(db: None) -> None:
    now = timezone.now()
    rows = seed_turns(now)["rows"]

    buckets = latency.by_bucket("24h", now)

    assert len(buckets) == 24
    assert buckets[-1].key <= now < buckets[-1].key + timedelta(hours=1)
    assert sum(bucket.turns for bucket in buckets) == len(rows)
    for bucket in buckets:
        mine = [r for r in rows if bucket.key <= r["started_at"] < bucket.key + timedelta(hours=1)]
        assert bucket.turns == len(mine)
        for stage in latency.STAGES:
            values = [row[stage] for row in mine if row[stage] is not None]
            assert bucket.figures[stage] == pytest.approx(reference(values), abs=0.11)


def test_five_minute_buckets_cover_the_last_hour(db: None) -> None:
    now = timezone.now()
    session = make_session()
    Turn.objects.create(session=session, index=0, started_at=now, voice_to_voice_ms=700)
    Turn.objects.create(session=session, index=1, started_at=now, voice_to_voice_ms=900)
    old = now - timedelta(hours=2)
    Turn.objects.create(session=session, index=2, started_at=old, voice_to_voice_ms=5)

    buckets = latency.by_bucket("1h", now)

    assert len(buckets) == 12
    assert buckets[1].key - buckets[0].key == timedelta(minutes=5)
    assert buckets[-1].turns == 2 and buckets[-1].get("voice_to_voice_ms", 0.5) == 800.0
    assert buckets[-1].get("voice_to_voice_ms", 0.95) == 890.0
    assert sum(bucket.turns for bucket in buckets) == 2


def test_the_latency_tables_show_the_same_figures(client: Client, sam: User) -> None:
    now = timezone.now()
    seed_turns(now)
    client.force_login(sam)

    page = client.get("/console/latency/").content.decode()

    pipeline = next(g for g in latency.by_engine("24h") if g.key == "openai-pipeline")
    median = pipeline.get("voice_to_voice_ms", 0.5)
    assert f'<td class="num">{median}</td>' in page
