"""Bearer-key checks: the one standard key, plus ephemeral `ek_` secrets the fake minted."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import invalid_key_message


@dataclass
class MintedSecret:
    value: str
    expires_at: float  # epoch seconds
    session: dict[str, Any]


@dataclass
class AuthResult:
    ok: bool
    message: str = ""
    secret: MintedSecret | None = None
    key: str = ""  # the accepted key, quoted by a scripted 401 as the service would


AUTH_KEY: web.RequestKey[AuthResult] = web.RequestKey("auth", AuthResult)


class KeyStore:
    """Accepts `api_key` everywhere and minted secrets on the Realtime endpoints until expiry."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self._lock = threading.Lock()
        self._secrets: dict[str, MintedSecret] = {}

    def mint(self, session: dict[str, Any], ttl_seconds: int) -> MintedSecret:
        secret = MintedSecret("ek_" + secrets.token_hex(16), time.time() + ttl_seconds, session)
        with self._lock:
            self._secrets[secret.value] = secret
        return secret

    def check(self, authorization: str | None, allow_ephemeral: bool) -> AuthResult:
        """Validate an Authorization header value."""
        if not authorization or not authorization.startswith("Bearer "):
            return AuthResult(
                False,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = authorization.removeprefix("Bearer ").strip()
        if key == self.api_key:
            return AuthResult(True, key=key)
        with self._lock:
            secret = self._secrets.get(key)
        if secret is None:
            return AuthResult(False, invalid_key_message(key))
        # Unconfirmed how the service words these two; 401 invalid_api_key is the best guess.
        if not allow_ephemeral:
            return AuthResult(False, "Ephemeral client secrets only work on the Realtime API.")
        if time.time() >= secret.expires_at:
            return AuthResult(False, "The client secret has expired.")
        return AuthResult(True, secret=secret, key=key)
