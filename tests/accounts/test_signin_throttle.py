"""Sign-in throttling (issue 14 item 5): failed passwords per username and per IP, then 429."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
WINDOW = 900


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.5") -> Any:
    return client.post(
        TOKEN,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_the_eleventh_failure_is_429_with_retry_after(client: Client, alice: User) -> None:
    statuses = [sign_in(client, "alice", f"wrong-{n}").status_code for n in range(10)]
    refused = sign_in(client, "alice", "wrong-10")

    assert statuses == [401] * 10
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= WINDOW
    assert refused.json()["code"] == "rate_limited"
    # Even the right password waits: the username is locked for the rest of the window.
    assert sign_in(client, "alice", "alice-password-1").status_code == 429


def test_another_username_still_signs_in(client: Client, alice: User, sam: User) -> None:
    for n in range(11):
        sign_in(client, "alice", f"wrong-{n}")

    assert sign_in(client, "sam", "sam-password-1").status_code == 200


def test_a_success_does_not_count(client: Client, alice: User) -> None:
    for _ in range(15):
        assert sign_in(client, "alice", "alice-password-1").status_code == 200
    statuses = [sign_in(client, "alice", f"wrong-{n}").status_code for n in range(10)]

    assert statuses == [401] * 10


def test_an_ip_is_refused_after_a_hundred_failures(
    client: Client, alice: User, settings: Any
) -> None:
    settings.VOICE_SIGNIN_FAILURES_PER_IP = 5
    for n in range(5):
        assert sign_in(client, f"guess-{n}", "x").status_code == 401

    assert sign_in(client, "alice", "alice-password-1").status_code == 429
    assert sign_in(client, "alice", "alice-password-1", ip="203.0.113.6").status_code == 200


def test_the_admin_login_is_throttled_too(client: Client, sam: User) -> None:
    def admin_login(password: str) -> Any:
        return client.post("/admin/login/?next=/admin/", {"username": "sam", "password": password})

    statuses = [admin_login(f"wrong-{n}").status_code for n in range(10)]
    refused = admin_login("sam-password-1")

    assert statuses == [200] * 10  # the form again, with its error
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1


def test_an_admin_success_does_not_count(client: Client, sam: User) -> None:
    for _ in range(12):
        answer = client.post("/admin/login/", {"username": "sam", "password": "sam-password-1"})
        assert answer.status_code == 302
        client.logout()


def post_json(url: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_two_processes_share_the_count(daphne_factory: Any, alice: User) -> None:
    first, second = daphne_factory(), daphne_factory()
    wrong = {"username": "alice", "password": "wrong"}

    statuses = [post_json(f"{server.http_url}{TOKEN}", wrong) for server in [first, second] * 5]

    assert statuses == [401] * 10
    assert post_json(f"{second.http_url}{TOKEN}", wrong) == 429
    assert post_json(f"{first.http_url}{TOKEN}", wrong) == 429
