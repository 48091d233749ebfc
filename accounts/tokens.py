"""One place that turns a raw access JWT into a user, for REST and WebSockets alike."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError


class TokenRejected(Exception):
    """The token is missing, malformed, expired, of the wrong kind or its user may not log in."""


def user_for_token(raw_token: str) -> AbstractBaseUser:
    """Validate an access token and return its active user (sync: it reads the database).

    simplejwt checks the signature and algorithm (so ``alg: none`` and foreign keys fail),
    the expiry, the token type (a refresh token is not an access token), revocation by a
    password change, and that the user exists and is active.
    """
    auth = JWTAuthentication()
    try:
        validated = auth.get_validated_token(raw_token.encode())
        return auth.get_user(validated)
    except (InvalidToken, TokenError, AuthenticationFailed) as exc:
        raise TokenRejected(str(exc)) from None
