"""Token endpoints (PROTOCOL.md section 5) and the one validation function behind every socket."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tokens import TokenRejected, user_for_token
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict) -> tuple[int, dict]:
    response = client.post(path, body, content_type="application/json")
    return response.status_code, response.json()


def test_obtain_gives_access_and_refresh(client: Client, alice: User) -> None:
    status, body = post(
        client, "/api/auth/token/", {"username": "alice", "password": "alice-password-1"}
    )

    assert status == 200
    assert user_for_token(body["access"]) == alice
    assert RefreshToken(body["refresh"])["user_id"] == str(alice.pk)


def test_obtain_refuses_a_wrong_password(client: Client, alice: User) -> None:
    status, _ = post(client, "/api/auth/token/", {"username": "alice", "password": "nope"})

    assert status == 401


def test_refresh_rotates_and_blacklists_the_old_refresh_token(client: Client, alice: User) -> None:
    refresh = str(RefreshToken.for_user(alice))

    status, body = post(client, "/api/auth/token/refresh/", {"refresh": refresh})
    again, _ = post(client, "/api/auth/token/refresh/", {"refresh": refresh})

    assert status == 200
    assert user_for_token(body["access"]) == alice
    assert body["refresh"] != refresh
    assert again == 401


def test_verify_answers_200_for_a_good_token_and_401_otherwise(client: Client, alice: User) -> None:
    good, _ = post(client, "/api/auth/token/verify/", {"token": token_for(alice)})
    bad, _ = post(client, "/api/auth/token/verify/", {"token": "not-a-jwt"})

    assert good == 200
    assert bad == 401


def test_a_valid_access_token_gives_its_user(alice: User) -> None:
    assert user_for_token(token_for(alice)) == alice


def test_an_expired_token_is_rejected(alice: User) -> None:
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=1))

    with pytest.raises(TokenRejected):
        user_for_token(str(token))


def test_a_token_signed_with_another_key_is_rejected(alice: User) -> None:
    payload = dict(AccessToken.for_user(alice).payload)
    forged = jwt.encode(payload, "another-signing-key-entirely-0123456789", algorithm="HS256")

    with pytest.raises(TokenRejected):
        user_for_token(forged)


def test_an_unsigned_alg_none_token_is_rejected(alice: User) -> None:
    payload = dict(AccessToken.for_user(alice).payload)
    unsigned = jwt.encode(payload, None, algorithm="none")

    with pytest.raises(TokenRejected):
        user_for_token(unsigned)


def test_a_refresh_token_is_not_an_access_token(alice: User) -> None:
    with pytest.raises(TokenRejected):
        user_for_token(str(RefreshToken.for_user(alice)))


def test_an_inactive_users_token_is_rejected(bob: User) -> None:
    with pytest.raises(TokenRejected):
        user_for_token(token_for(bob))


def test_a_deleted_users_token_is_rejected(alice: User) -> None:
    token = token_for(alice)
    alice.delete()

    with pytest.raises(TokenRejected):
        user_for_token(token)


def test_a_password_change_revokes_earlier_tokens(alice: User) -> None:
    token = token_for(alice)
    alice.set_password("a-new-password-2")
    alice.save()

    with pytest.raises(TokenRejected):
        user_for_token(token)


def test_garbage_is_rejected(db: None) -> None:
    with pytest.raises(TokenRejected):
        user_for_token("a.b.c")
