"""The address a request really comes from, for per-IP limits and records.

The socket peer is the client unless the peer is one of ``VOICE_TRUSTED_PROXIES`` (addresses or
CIDR networks). Only then is ``X-Forwarded-For`` read, from the right: each trusted proxy appends
the address it received the request from, so the first hop (reading right to left) that is not a
trusted proxy is the client. Anything to its left was written by the client and is ignored, so
nobody escapes a per-IP limit by sending that header.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse the trusted-proxy setting once per distinct value (tests override it)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            logger.warning("VOICE_TRUSTED_PROXIES: ignoring %r, not an address or network", entry)
    return tuple(networks)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """The networks of ``VOICE_TRUSTED_PROXIES``."""
    return _networks(tuple(settings.VOICE_TRUSTED_PROXIES))


def parse_ip(value: str | None) -> IPAddress | None:
    """An address from a header or peer value; tolerates ``[v6]:port`` and ``v4:port`` forms."""
    if not value:
        return None
    text = value.strip().strip('"')
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; count them as the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``address`` belongs to one of the trusted proxy networks."""
    return any(address.version == net.version and address in net for net in networks)


def resolve_client_ip(peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
    """The client address given the socket peer and the ``X-Forwarded-For`` header values."""
    address = parse_ip(peer)
    if address is None:
        return None
    networks = trusted_networks()
    if not networks or not is_trusted(address, networks):
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_address = parse_ip(hop)
        if hop_address is None:
            # A trusted proxy never writes garbage: it came from the client. The last trusted
            # hop we walked through is the best address we can vouch for.
            break
        address = hop_address
        if not is_trusted(hop_address, networks):
            break
    return str(address)


def _scope_headers(scope: Mapping[str, Any], name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]


def client_ip_from_scope(scope: Mapping[str, Any]) -> str | None:
    """The client address of an ASGI connection (WebSocket or HTTP scope)."""
    client = scope.get("client")
    peer = client[0] if client else None
    return resolve_client_ip(peer, _scope_headers(scope, b"x-forwarded-for"))


def client_ip_from_request(request: HttpRequest) -> str | None:
    """The client address of a Django request (``REMOTE_ADDR`` is the socket peer)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return resolve_client_ip(request.META.get("REMOTE_ADDR"), [forwarded] if forwarded else [])
