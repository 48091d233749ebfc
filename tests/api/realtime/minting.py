"""Minting a key over POST /api/realtime/session, and a clock the retry and limit code can read."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from tests.conftest import token_for

URL = "/api/realtime/session"
SECRETS = "realtime/client_secrets"
# 30.25 s into a UTC minute, so a test's mints never straddle a rate-limit window.
T0 = 1_800_000_030.25


class FakeTime:
    """Stands in for ``time`` in the retry, circuit and rate-limit modules; sleeping is instant."""

    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def mint(client: Client, user: User | None, body: Any = None) -> HttpResponse:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"} if user else {}
    data = json.dumps(body if body is not None else {})
    return client.post(URL, data, content_type="application/json", **headers)
