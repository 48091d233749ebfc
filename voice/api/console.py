"""``GET /api/metrics`` (JSON, staff) and ``GET /metrics`` (Prometheus, staff or scrape token)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from voice.console.exposition import CONTENT_TYPE, render_prometheus
from voice.console.metrics import server_metrics

# request.auth of a scraper that presented VOICE_METRICS_TOKEN.
SCRAPE_TOKEN = "metrics-token"

_FIELD_HELP = {
    "totalConnections": "sessions ever opened",
    "activeConnections": "sessions live now",
    "totalFramesProcessed": "WebSocket messages handled, both ways",
    "averageLatency": "ms, mean voice-to-voice of the last hour",
    "peakConcurrentSessions": "most sessions open at once, last 24 h",
    "audioFramesProcessed": "audio chunks in and out",
    "messagesSent": "WebSocket messages sent",
    "messagesReceived": "WebSocket messages received",
    "errors": "failed turns plus malformed audio frames",
}
_METRICS_SCHEMA = inline_serializer(
    "Metrics",
    {
        name: (serializers.FloatField if name == "averageLatency" else serializers.IntegerField)(
            help_text=text
        )
        for name, text in _FIELD_HELP.items()
    },
)


# Both metrics views answer these to a client that is not staff (or the scraper).
_REFUSALS = {
    401: OpenApiResponse(description="no valid credentials"),
    403: OpenApiResponse(description="signed in, but not staff"),
}


class MetricsView(APIView):
    """The server-wide counters, for staff (JWT or admin session)."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: _METRICS_SCHEMA, **_REFUSALS})
    def get(self, request: Request) -> Response:
        return Response(server_metrics())


class MetricsTokenAuthentication(BaseAuthentication):
    """Accepts ``Authorization: Bearer <VOICE_METRICS_TOKEN>`` when that setting is not empty."""

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        expected = settings.VOICE_METRICS_TOKEN
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not expected or header[:7].lower() != "bearer ":
            return None
        if hmac.compare_digest(header[7:].strip().encode(), expected.encode()):
            return AnonymousUser(), SCRAPE_TOKEN
        return None  # perhaps a staff JWT: the next authenticator decides

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="metrics"'


class MetricsTokenScheme(OpenApiAuthenticationExtension):
    """Names the scrape token in the OpenAPI document."""

    target_class = MetricsTokenAuthentication
    name = "metricsToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "VOICE_METRICS_TOKEN, when the deployment sets one",
        }


class IsStaffOrScraper(BasePermission):
    """Staff, or a scraper that presented the metrics token."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.auth == SCRAPE_TOKEN:
            return True
        return bool(request.user and request.user.is_staff)


class AnyAccept(BaseContentNegotiation):
    """Answer whatever the scraper's Accept says: the figures are text, refusals are JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))  # renderer_classes names one
        return renderer, renderer.media_type


class PrometheusView(APIView):
    """The same figures in Prometheus' text format."""

    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    authentication_classes = [
        MetricsTokenAuthentication,
        JWTAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsStaffOrScraper]

    @extend_schema(responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR), **_REFUSALS})
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(render_prometheus(server_metrics()), content_type=CONTENT_TYPE)
