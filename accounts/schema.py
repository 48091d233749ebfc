"""What the token endpoints take and give, as their OpenAPI document says it.

simplejwt's serializers trim their strings and refuse blank ones and NUL characters; the
document says so (``NON_BLANK``), so a client that follows it is never refused with a 400.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# At least one character that is not whitespace, and no NUL anywhere.
NON_BLANK = {"type": "string", "minLength": 1, "pattern": r"^[^\x00]*\S[^\x00]*$"}


@extend_schema_field(NON_BLANK)
class NonBlankField(serializers.CharField):
    """A string the token serializers accept (documentation only)."""


class SignInRequest(serializers.Serializer[None]):
    username = NonBlankField()
    password = NonBlankField()


class RefreshRequest(serializers.Serializer[None]):
    refresh = NonBlankField(help_text="a refresh token")


class VerifyRequest(serializers.Serializer[None]):
    token = NonBlankField(help_text="an access or refresh token")


class TokenPair(serializers.Serializer[None]):
    access = serializers.CharField(help_text="an access token (Bearer)")
    refresh = serializers.CharField(help_text="a refresh token; a refresh rotates it")
