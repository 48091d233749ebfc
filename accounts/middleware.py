"""Channels middleware: the origin rule and JWT authentication (PROTOCOL.md section 1)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal, Protocol, TypedDict
from urllib.parse import ParseResult, parse_qs

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.tokens import TokenRejected, user_for_token

BEARER_SUBPROTOCOL = "bearer"

# An ASGI scope as Channels passes it on: ASGI's keys, then "user", "auth" and "url_route".
Scope = dict[str, Any]
TokenSource = Literal["header", "subprotocol", "query"]


class HandshakeAuth(TypedDict):
    """``scope["auth"]``: where the handshake's token was found, and why it was refused."""

    source: TokenSource | None
    error: str | None


class AsgiApp(Protocol):
    """What the middleware wraps: a Channels router or consumer application."""

    def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> Awaitable[None]: ...


def token_from_scope(scope: Scope) -> tuple[str | None, TokenSource | None]:
    """Return ``(token, source)`` from the handshake, first match wins, else ``(None, None)``."""
    headers = dict(scope.get("headers") or [])
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return authorization[7:].strip(), "header"
    subprotocols = list(scope.get("subprotocols") or [])
    if BEARER_SUBPROTOCOL in subprotocols:
        index = subprotocols.index(BEARER_SUBPROTOCOL)
        if index + 1 < len(subprotocols):
            return subprotocols[index + 1], "subprotocol"
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token", [""])[0]:
        return query["token"][0], "query"
    return None, None


@database_sync_to_async
def _resolve_user(raw_token: str) -> AbstractBaseUser:
    return user_for_token(raw_token)


class JwtAuthMiddleware:
    """Sets ``scope["user"]`` from a handshake token and records how it went in ``scope["auth"]``.

    It never refuses by itself: each endpoint applies its own rule (refuse the handshake,
    close 4401, or wait for a late ``auth`` message).
    """

    def __init__(self, inner: AsgiApp) -> None:
        self.inner = inner

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        scope = dict(scope)
        token, source = token_from_scope(scope)
        auth: HandshakeAuth = {"source": source, "error": None}
        user: AbstractBaseUser | AnonymousUser = AnonymousUser()
        if token is not None:
            try:
                user = await _resolve_user(token)
            except TokenRejected as exc:
                auth["error"] = str(exc)
        scope["user"] = user
        scope["auth"] = auth
        await self.inner(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Refuses a foreign ``Origin``; a handshake without one is judged by its token alone."""

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def origin_validator(inner: AsgiApp) -> BrowserOriginValidator:
    """The origin rule over ``ALLOWED_HOSTS`` plus ``VOICE_ALLOWED_ORIGINS``."""
    allowed = [*settings.ALLOWED_HOSTS, *settings.VOICE_ALLOWED_ORIGINS]
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        allowed += ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(inner, allowed)
