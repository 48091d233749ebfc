"""Sign-in throttling: failed passwords per username and per IP, counted on the shared ledger.

Both doors that take a password (``POST /api/auth/token/`` and the admin login) go through
``guard``. An attempt reserves one failure in the username's and the IP's 15-minute windows
before the password is checked, and gives it back when the password was right: concurrent
guesses (threads, processes, hosts) can never spend more than the limit, and a success never
counts. The ledger (``voice.services.ratelimit``) lives in the database every process shares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from voice.services import ratelimit
from voice.transports.client_ip import client_ip_from_request


def _username_key(username: Any) -> str:
    # Hashed: any length and any character (a lone surrogate included) gives a short, safe key.
    raw = str(username or "").strip().casefold().encode("utf-8", "surrogatepass")
    return "signin:user:" + hashlib.sha256(raw).hexdigest()[:32]


def _limits(username: Any, ip: str | None) -> list[tuple[str, int, int, int]]:
    window = settings.VOICE_SIGNIN_WINDOW_SECONDS
    return [
        (_username_key(username), settings.VOICE_SIGNIN_FAILURES_PER_USERNAME, window, 1),
        (f"signin:ip:{ip or 'unknown'}", settings.VOICE_SIGNIN_FAILURES_PER_IP, window, 1),
    ]


def guard(
    request: HttpRequest,
    username: Any,
    attempt: Callable[[], HttpResponseBase],
    failed: Callable[[HttpResponseBase], bool],
    refuse: Callable[[str], HttpResponseBase],
) -> HttpResponseBase:
    """Run ``attempt`` unless the username or IP is out of failures; count it if ``failed``.

    ``refuse(retry_after_header)`` builds the 429 answer of the caller's kind.
    """
    limits = _limits(username, client_ip_from_request(request))
    decision = ratelimit.hit_all(limits)
    if not decision.allowed:
        return refuse(decision.retry_after_header)
    response = attempt()
    if not failed(response):
        for key, _limit, window, cost in limits:
            ratelimit.refund(key, window, cost)
    return response
