"""``POST /api/tools/<name>``: the server's site tools, run for a signed-in browser.

Over direct WebRTC no server sits between the model and the page, so the page answers the
model's function calls itself. For the site tools it asks here, so that a direct call searches
the knowledge base exactly as a socket session does (``voice.session.site_tools``). The page's
state setters are not run here: they stay in the browser.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voice.session import site_tools


class SearchSiteArguments(serializers.Serializer[Any]):
    query = serializers.CharField(allow_blank=True, trim_whitespace=False)


class NavigateArguments(serializers.Serializer[Any]):
    page = serializers.CharField(allow_blank=True, trim_whitespace=False)
    path = serializers.CharField(required=False, allow_blank=True)


class SiteInfoArguments(serializers.Serializer[Any]):
    topic = serializers.CharField(required=False, allow_blank=True)


# The arguments each site tool takes; they run as in a socket session (``run_site_tool``).
ARGUMENTS: dict[str, type[serializers.Serializer[Any]]] = {
    "search_site": SearchSiteArguments,
    "navigate_to_page": NavigateArguments,
    "get_site_info": SiteInfoArguments,
}


class SiteToolView(APIView):
    """Run one site tool with the model's arguments (the JSON body) and answer its result."""

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="the tool's result, as the model receives it"),
            400: OpenApiResponse(description="arguments that do not fit the tool's parameters"),
            401: OpenApiResponse(description="no valid JWT"),
            404: OpenApiResponse(description="no site tool of that name"),
        },
    )
    def post(self, request: Request, name: str) -> Response:
        if name not in ARGUMENTS:
            return Response({"detail": f"No site tool called {name!r}."}, status=404)
        serializer = ARGUMENTS[name](data=request.data)
        serializer.is_valid(raise_exception=True)
        result = site_tools.run_site_tool(name, serializer.validated_data)
        assert result is not None  # every name in ARGUMENTS is a site tool
        return Response(result.output)
