"""The admin pages operators use render, with recorded facts read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from voice.models import RateLimitBucket, SitePage, TokenGrant, Turn, VoiceSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_data(client: Client, alice: User) -> Client:
    admin = User.objects.create_superuser("root", "root@example.com", "root-password-1")
    session = VoiceSession.objects.create(user=alice, transport="json", engine="local")
    Turn.objects.create(session=session, index=0, started_at=timezone.now(), user_text="hi")
    now = timezone.now()
    RateLimitBucket.objects.create(key="k", window_start=now, window_seconds=60, expires_at=now)
    TokenGrant.objects.create(user=alice, model="gpt-realtime", expires_at=now)
    SitePage.objects.create(slug="pricing", title="Pricing", path="/pricing")
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", ["voicesession", "turn", "ratelimitbucket", "tokengrant", "sitepage"]
)
def test_every_changelist_renders(admin_client_with_data: Client, model: str) -> None:
    response = admin_client_with_data.get(f"/admin/voice/{model}/")

    assert response.status_code == 200


def test_sessions_cannot_be_added_or_edited(admin_client_with_data: Client) -> None:
    session = VoiceSession.objects.get()

    add = admin_client_with_data.get("/admin/voice/voicesession/add/")
    change = admin_client_with_data.post(
        f"/admin/voice/voicesession/{session.pk}/change/", {"engine": "tampered"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    session.refresh_from_db()
    assert session.engine == "local"


def test_the_session_page_shows_its_turns(admin_client_with_data: Client) -> None:
    session = VoiceSession.objects.get()

    page = admin_client_with_data.get(f"/admin/voice/voicesession/{session.pk}/change/")

    assert page.status_code == 200
    assert b"hi" in page.content
