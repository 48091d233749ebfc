"""``/``: the voice page. Sign-in and talking happen in the browser against the public API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from voice.engines.voices import REALTIME_VOICES, VOICES
from voice.models import SitePage
from voice.session.site_tools import SITE_TOOLS
from voice.upstream.keys import rtc_url

LANGUAGES = (
    ("en-US", "English (US)"),
    ("en-GB", "English (UK)"),
    ("es-ES", "Spanish"),
    ("fr-FR", "French"),
    ("de-DE", "German"),
    ("it-IT", "Italian"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("nl-NL", "Dutch"),
    ("ja-JP", "Japanese"),
)
# The page shows where the assistant navigated from these.
MAX_PAGES = 200
SUMMARY_CHARS = 300


def site_pages() -> list[dict[str, str]]:
    """The knowledge base's pages, small enough to embed in the page."""
    pages = SitePage.objects.order_by("title").only("slug", "title", "path", "summary", "body")
    return [
        {
            "slug": page.slug,
            "title": page.title,
            "path": page.path,
            "summary": (page.summary or page.body)[:SUMMARY_CHARS],
        }
        for page in pages[:MAX_PAGES]
    ]


def page_config() -> dict[str, Any]:
    """What the page's scripts must know of the server (static/voice/config.js reads it)."""
    return {
        "realtimeVoices": list(REALTIME_VOICES),
        "siteTools": [tool.as_openai_function() for tool in SITE_TOOLS],
        "limits": {"maxContextBytes": settings.VOICE_MAX_CONTEXT_BYTES},
    }


def content_security_policy(request: HttpRequest) -> str:
    """Scripts and styles from this origin only; sockets to this host; SDP to the AI service."""
    host = request.get_host()
    scheme = "wss" if request.is_secure() else "ws"
    parts = urlsplit(rtc_url())
    ai_origin = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob: mediastream:",
            f"connect-src 'self' {scheme}://{host} {ai_origin}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


@require_GET
def voice_page(request: HttpRequest) -> HttpResponse:
    """Render the page; it needs no Django session (JWTs are kept by the browser)."""
    response = render(
        request,
        "voice/page.html",
        {
            "voices": VOICES,
            "languages": LANGUAGES,
            "site_pages": site_pages(),
            "page_config": page_config(),
        },
    )
    response["Content-Security-Policy"] = content_security_policy(request)
    response["Permissions-Policy"] = "microphone=(self), camera=(), geolocation=()"
    response["Referrer-Policy"] = "same-origin"
    return response
