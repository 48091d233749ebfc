"""The handshake rules of PROTOCOL.md section 1, through the real origin and JWT middleware."""

from __future__ import annotations

from typing import Any

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from accounts.middleware import JwtAuthMiddleware, origin_validator, token_from_scope
from tests.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


class ProbeConsumer(AsyncJsonWebsocketConsumer):
    """Accepts and reports who the middleware says the caller is."""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        await self.send_json(
            {
                "user": user.username if user.is_authenticated else None,
                "source": self.scope["auth"]["source"],
                "error": self.scope["auth"]["error"],
            }
        )


app = origin_validator(JwtAuthMiddleware(ProbeConsumer.as_asgi()))


async def handshake(
    headers: list[tuple[bytes, bytes]] | None = None,
    path: str = "/probe",
    subprotocols: list[str] | None = None,
) -> tuple[bool, Any]:
    ws = WebsocketCommunicator(app, path, headers=headers or [], subprotocols=subprotocols)
    accepted, _ = await ws.connect()
    answer = await ws.receive_json_from() if accepted else None
    await ws.disconnect()
    return accepted, answer


async def test_a_bearer_header_authenticates(alice: User) -> None:
    accepted, answer = await handshake([(b"authorization", f"Bearer {token_for(alice)}".encode())])

    assert accepted
    assert answer == {"user": "alice", "source": "header", "error": None}


async def test_the_bearer_subprotocol_authenticates(alice: User) -> None:
    accepted, answer = await handshake(subprotocols=["bearer", token_for(alice)])

    assert accepted
    assert answer["user"] == "alice"
    assert answer["source"] == "subprotocol"


async def test_the_query_token_authenticates(alice: User) -> None:
    accepted, answer = await handshake(path=f"/probe?token={token_for(alice)}")

    assert accepted
    assert answer["user"] == "alice"
    assert answer["source"] == "query"


async def test_the_header_wins_over_the_query(alice: User, sam: User) -> None:
    _, answer = await handshake(
        [(b"authorization", f"Bearer {token_for(sam)}".encode())],
        path=f"/probe?token={token_for(alice)}",
    )

    assert answer["user"] == "sam"


async def test_a_bad_token_leaves_the_user_anonymous_with_the_reason(db: None) -> None:
    accepted, answer = await handshake([(b"authorization", b"Bearer nonsense")])

    assert accepted
    assert answer["user"] is None
    assert answer["error"]


async def test_an_inactive_users_token_leaves_the_user_anonymous(bob: User) -> None:
    _, answer = await handshake([(b"authorization", f"Bearer {token_for(bob)}".encode())])

    assert answer["user"] is None
    assert answer["error"]


async def test_no_token_means_anonymous_without_error(db: None) -> None:
    _, answer = await handshake()

    assert answer == {"user": None, "source": None, "error": None}


async def test_a_foreign_origin_is_refused_at_the_handshake(alice: User) -> None:
    accepted, _ = await handshake(
        [
            (b"origin", b"https://evil.example.com"),
            (b"authorization", f"Bearer {token_for(alice)}".encode()),
        ]
    )

    assert not accepted


async def test_an_allowed_origin_is_admitted(alice: User) -> None:
    accepted, _ = await handshake(
        [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    )

    assert accepted


async def test_no_origin_with_a_good_token_is_judged_by_the_token(alice: User) -> None:
    accepted, answer = await handshake([(b"authorization", f"Bearer {token_for(alice)}".encode())])

    assert accepted
    assert answer["user"] == "alice"


def test_the_bearer_subprotocol_needs_a_token_after_it() -> None:
    assert token_from_scope({"subprotocols": ["bearer"]}) == (None, None)
