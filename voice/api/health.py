"""``GET /api/health``: whether the server is healthy, for anyone (load balancers, uptime)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voice.services.health import health_report

logger = logging.getLogger(__name__)


class HealthView(APIView):
    """Whether the server is healthy, with figures from the database."""

    permission_classes = [AllowAny]
    authentication_classes: list[type[BaseAuthentication]] = []

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(choices=["healthy", "degraded"]),
                "activeSessions": serializers.IntegerField(),
                "avgLatency": serializers.FloatField(help_text="ms"),
                "errorRate": serializers.FloatField(help_text="0-1"),
                "timestamp": serializers.DateTimeField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        try:
            return Response(health_report())
        except DatabaseError:
            logger.exception("health check could not read the database")
            now = timezone.now().isoformat().replace("+00:00", "Z")
            body = {
                "status": "degraded",
                "activeSessions": 0,
                "avgLatency": 0.0,
                "errorRate": 1.0,
                "timestamp": now,
            }
            return Response(body, status=503)
