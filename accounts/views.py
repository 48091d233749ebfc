"""The sign-in doors: simplejwt's token views with a truthful schema, and the throttled admin login.

``POST /api/auth/token/`` and the admin login count failed passwords (``accounts.signin``);
every token view lists the answers it really gives (400 for a body it cannot read, 401, 429).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from accounts.schema import RefreshRequest, SignInRequest, TokenPair, VerifyRequest
from accounts.signin import guard

BAD_BODY = OpenApiResponse(description="a required field is missing, blank or not a string")
REFUSED_TOKEN = OpenApiResponse(description="the token is invalid, expired or revoked")


def too_many(retry_after: str) -> Response:
    return Response(
        {"detail": "Too many failed sign-ins; try again later", "code": "rate_limited"},
        status=429,
        headers={"Retry-After": retry_after},
    )


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """Access and refresh tokens for a username and password, failures throttled."""

    @extend_schema(
        request=SignInRequest,
        responses={
            200: TokenPair,
            400: BAD_BODY,
            401: OpenApiResponse(description="wrong username or password, or inactive user"),
            429: OpenApiResponse(description="too many failed sign-ins; see Retry-After"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        response = guard(
            request._request,
            username,
            lambda: super(ThrottledTokenObtainPairView, self).post(request, *args, **kwargs),
            lambda answer: answer.status_code == 401,
            too_many,
        )
        assert isinstance(response, Response)
        return response


class DocumentedTokenRefreshView(TokenRefreshView):
    @extend_schema(
        request=RefreshRequest, responses={200: TokenPair, 400: BAD_BODY, 401: REFUSED_TOKEN}
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class DocumentedTokenVerifyView(TokenVerifyView):
    @extend_schema(
        request=VerifyRequest,
        responses={
            200: OpenApiResponse(description="the token is valid"),
            400: BAD_BODY,
            401: REFUSED_TOKEN,
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


def admin_login(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponseBase:
    """Django admin's login, with failed passwords counted like the token endpoint's."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    return guard(
        request,
        request.POST.get("username"),
        lambda: admin.site.login(request, extra_context),
        # The admin logs a staff user in and redirects; anything else refused the password.
        lambda _answer: not (request.user.is_authenticated and request.user.is_staff),
        lambda retry_after: HttpResponse(
            "Too many failed sign-ins; try again later.\n",
            status=429,
            content_type="text/plain",
            headers={"Retry-After": retry_after},
        ),
    )
