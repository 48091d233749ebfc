"""``POST /api/realtime/session``: an ephemeral Realtime key for a browser (PROTOCOL.md section 5).

The browser then talks to the AI service directly over WebRTC; the server only records that a
key was issued (``TokenGrant``), never the key itself.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voice.engines.voices import REALTIME_VOICES
from voice.models import TokenGrant
from voice.services import ratelimit
from voice.transports.client_ip import client_ip_from_request
from voice.upstream.keys import (
    TURN_DETECTION,
    EphemeralKey,
    KeyMintError,
    mint_key,
    rtc_url,
)

logger = logging.getLogger(__name__)


class SessionRequestSerializer(serializers.Serializer[dict[str, Any]]):
    """Optional choices of the client; each falls back to the server's setting."""

    voice = serializers.ChoiceField(choices=REALTIME_VOICES, required=False)
    instructions = serializers.CharField(required=False, trim_whitespace=False)
    model = serializers.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request, so the caps and the allow-list follow the settings of the moment.
        self.fields["instructions"] = serializers.CharField(
            # min_length: blank is refused, and the OpenAPI document must say so.
            required=False,
            trim_whitespace=False,
            min_length=1,
            max_length=settings.VOICE_MAX_INSTRUCTIONS_CHARS,
        )
        self.fields["model"] = serializers.ChoiceField(
            choices=settings.VOICE_REALTIME_MODELS, required=False
        )


SESSION_ANSWER = inline_serializer(
    "RealtimeSession",
    {
        "session_id": serializers.UUIDField(),
        "ephemeral_key": serializers.CharField(),
        "expires_at": serializers.IntegerField(help_text="Unix seconds"),
        "model": serializers.CharField(),
        "voice": serializers.CharField(),
        "instructions": serializers.CharField(),
        "turn_detection": serializers.DictField(),
        "rtc_url": serializers.URLField(),
        "client_secret": serializers.DictField(help_text="{value, expires_at}"),
    },
)


def error_response(status: int, code: str, detail: str, retry_after: str | None = None) -> Response:
    """A JSON error in DRF's shape (``detail``) plus a machine-readable ``code``."""
    headers = {"Retry-After": retry_after} if retry_after else None
    return Response({"detail": detail, "code": code}, status=status, headers=headers)


class RealtimeSessionView(APIView):
    """Mint an ephemeral key bound to a Realtime session for the signed-in user."""

    @extend_schema(
        request=SessionRequestSerializer,
        responses={
            200: SESSION_ANSWER,
            400: OpenApiResponse(description="invalid voice, model or instructions"),
            401: OpenApiResponse(description="no valid JWT"),
            429: OpenApiResponse(
                description="too many keys or live sessions, or the day's audio is spent; "
                "see Retry-After"
            ),
            502: OpenApiResponse(description="the server's OpenAI key is missing or rejected"),
            503: OpenApiResponse(description="the AI service is unavailable; see Retry-After"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = SessionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        choices = serializer.validated_data
        model = choices.get("model", settings.VOICE_REALTIME_MODEL)
        voice = choices.get("voice", settings.VOICE_DEFAULT_VOICE)
        # A client's own instructions could talk the model out of the site's rules: opt-in.
        instructions = settings.VOICE_INSTRUCTIONS
        if settings.VOICE_ALLOW_CLIENT_INSTRUCTIONS:
            instructions = choices.get("instructions", instructions)
        ip = client_ip_from_request(request._request)

        decision = ratelimit.check_key_mint(request.user.pk, ip)
        if not decision.allowed:
            return error_response(
                429, "rate_limited", "Rate limit exceeded", decision.retry_after_header
            )
        try:
            key = mint_key(model, voice, instructions)
        except KeyMintError as exc:
            logger.warning("no ephemeral key for user %s: %s", request.user.pk, exc.code)
            retry_after = None
            if exc.status == 503:
                retry_after = str(max(1, math.ceil(exc.retry_after or 0)))
            return error_response(exc.status, exc.code, exc.message, retry_after)

        # IsAuthenticated (the default permission) let only a signed-in user this far.
        grant = record_grant(cast(User, request.user), ip, key)
        # A secret: no cache (browser or proxy) may keep it.
        return Response(session_answer(grant, key), headers={"Cache-Control": "no-store"})


def record_grant(user: User, ip: str | None, key: EphemeralKey) -> TokenGrant:
    """Remember that a key was issued, to whom and until when (never the key)."""
    grant = TokenGrant.objects.create(
        session_id=uuid.uuid4(),
        user=user,
        client_ip=ip,
        model=key.model,
        voice=key.voice,
        expires_at=datetime.fromtimestamp(key.expires_at, UTC),
    )
    logger.info(
        "issued ephemeral key: session %s, user %s, model %s, until %s",
        grant.session_id,
        user.pk,
        key.model,
        grant.expires_at.isoformat(),
    )
    return grant


def session_answer(grant: TokenGrant, key: EphemeralKey) -> dict[str, Any]:
    """The contract's ephemeral session answer (PROTOCOL.md section 5)."""
    return {
        "session_id": str(grant.session_id),
        "ephemeral_key": key.value,
        "expires_at": key.expires_at,
        "model": key.model,
        "voice": key.voice,
        "instructions": key.instructions,
        "turn_detection": dict(TURN_DETECTION),
        "rtc_url": rtc_url(),
        # The same secret in the shape older Realtime clients read.
        "client_secret": {"value": key.value, "expires_at": key.expires_at},
    }
