"""``POST /api/tools/<name>``: the server's site tools, run for a signed-in browser.

Over direct WebRTC no server sits between the model and the page, so the page answers the
model's function calls itself. For the site tools it asks here, so that a direct call searches
the knowledge base exactly as a socket session does (``voice.session.site_tools``). The page's
state setters are not run here: they stay in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voice.session import site_tools

Arguments = dict[str, Any]
Result = dict[str, Any]


class SearchSiteArguments(serializers.Serializer[Any]):
    query = serializers.CharField(allow_blank=True, trim_whitespace=False)


class NavigateArguments(serializers.Serializer[Any]):
    page = serializers.CharField(allow_blank=True, trim_whitespace=False)
    path = serializers.CharField(required=False, allow_blank=True)


class SiteInfoArguments(serializers.Serializer[Any]):
    topic = serializers.CharField(required=False, allow_blank=True)


def search(args: Arguments) -> Result:
    return {"results": site_tools.search_site(args["query"])}


def navigate(args: Arguments) -> Result:
    """The page meant; the browser takes the user there when ``ok``."""
    page = site_tools.find_page(args["page"], args.get("path") or None)
    if page is None:
        return {"ok": False, "error": f"no page called {args['page']!r}"}
    return {"ok": True, "page": page.title, "path": page.path}


def site_info(args: Arguments) -> Result:
    return site_tools.get_site_info(args.get("topic") or None)


# Each site tool's arguments and what runs it; the results are those a socket session's model gets.
TOOLS: dict[str, tuple[type[serializers.Serializer[Any]], Callable[[Arguments], Result]]] = {
    "search_site": (SearchSiteArguments, search),
    "navigate_to_page": (NavigateArguments, navigate),
    "get_site_info": (SiteInfoArguments, site_info),
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
        if name not in TOOLS:
            return Response({"detail": f"No site tool called {name!r}."}, status=404)
        arguments, run = TOOLS[name]
        serializer = arguments(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(run(serializer.validated_data))
