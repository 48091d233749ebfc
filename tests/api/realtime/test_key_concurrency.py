"""The key-mint rate limit under concurrent requests, in one process and across two (PostgreSQL)."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from devtools.fake_openai.openai_server import FakeOpenAI
from devtools.servers import DaphneServer, database_url_for_tests
from tests.api.realtime.minting import SECRETS, URL, mint
from tests.conftest import token_for
from voice.models import TokenGrant

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres", "clock")
def test_fifty_concurrent_mints_give_exactly_ten_keys(fake: FakeOpenAI, alice: User) -> None:
    barrier = threading.Barrier(50)

    def one() -> int:
        try:
            barrier.wait()
            return mint(Client(), alice).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda _: one(), range(50)))

    assert Counter(statuses) == {200: 10, 429: 40}
    assert TokenGrant.objects.count() == 10
    assert len(fake.records.requests_to(SECRETS)) == 10


def post_to(server: DaphneServer, token: str) -> int:
    request = urllib.request.Request(
        server.http_url + URL,
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres")
def test_the_limit_holds_across_two_server_processes(fake: FakeOpenAI, alice: User) -> None:
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": fake.api_key}
    servers = [DaphneServer(database_url_for_tests(), env=env) for _ in range(2)]
    token = token_for(alice)
    try:
        for server in servers:
            server.start()
        # Not synchronisation: a fixed window that ended mid-test would rightly allow 20 keys.
        left = 60 - time.time() % 60
        if left < 10:
            time.sleep(left + 0.1)
        barrier = threading.Barrier(50)

        def one(index: int) -> int:
            barrier.wait()
            return post_to(servers[index % 2], token)

        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(one, range(50)))
    finally:
        for server in servers:
            server.stop()

    assert Counter(statuses) == {200: 10, 429: 40}
    assert TokenGrant.objects.count() == 10
