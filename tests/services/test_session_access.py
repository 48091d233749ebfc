"""The heartbeat's access check, driven directly: a session outlives its token, not its user's
access (PROTOCOL.md section 1)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from voice.services.sessions import Beat, beat, open_session

pytestmark = pytest.mark.django_db


def opened_by(user: User | None) -> tuple[uuid.UUID, str]:
    session_id = uuid.uuid4()
    opened = open_session(
        session_id,
        user_id=user.pk if user else None,
        transport="json",
        engine="local",
        client_ip=None,
    )
    return session_id, opened.credentials


def test_a_session_beats_while_its_user_keeps_access(alice: User) -> None:
    session_id, credentials = opened_by(alice)

    assert beat(session_id, {}, credentials) is Beat.LIVE


def test_a_deactivated_user_is_revoked_at_the_next_beat(alice: User) -> None:
    session_id, credentials = opened_by(alice)

    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert beat(session_id, {}, credentials) is Beat.REVOKED


def test_a_new_password_is_revoked_at_the_next_beat(alice: User) -> None:
    session_id, credentials = opened_by(alice)

    User.objects.filter(pk=alice.pk).update(password=make_password("another-password-4"))

    assert beat(session_id, {}, credentials) is Beat.REVOKED


def test_anonymous_sessions_have_no_credentials_to_lose() -> None:
    session_id, credentials = opened_by(None)

    assert credentials == ""
    assert beat(session_id, {"messages_in": 1}, credentials) is Beat.LIVE
