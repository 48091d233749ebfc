"""Which address a request comes from: the peer, unless a trusted proxy vouches for another."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import RequestFactory

from voice.transports.client_ip import (
    client_ip_from_request,
    client_ip_from_scope,
    resolve_client_ip,
)

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.VOICE_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8:1::/48"]


def scope_from(peer: str | None, *forwarded: str) -> dict[str, Any]:
    headers = [(b"host", b"voice.example.com")]
    headers += [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "websocket", "client": (peer, 51234) if peer else None, "headers": headers}


def test_the_peer_is_the_client_when_no_proxy_is_trusted() -> None:
    assert resolve_client_ip(CLIENT) == CLIENT


def test_a_client_cannot_pick_its_address_with_the_header_when_no_proxy_is_trusted() -> None:
    assert resolve_client_ip(CLIENT, ["198.51.100.1"]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_an_untrusted_peer_is_the_client_whatever_its_header_says() -> None:
    assert resolve_client_ip(CLIENT, ["198.51.100.1, 10.0.0.6"]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_names_the_client() -> None:
    assert resolve_client_ip(PROXY, [CLIENT]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_addresses_the_client_prepended_are_ignored() -> None:
    # The client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the real peer.
    assert resolve_client_ip(PROXY, [f"198.51.100.1, {CLIENT}"]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_a_client_claiming_to_be_a_trusted_proxy_is_not_believed() -> None:
    # The client wrote a trusted address last in its own header; the proxy appended the peer.
    assert resolve_client_ip(PROXY, [f"198.51.100.1, 10.0.0.9, {CLIENT}"]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    assert resolve_client_ip(PROXY, [f"198.51.100.1, {CLIENT}, 10.0.0.8, 10.0.0.6"]) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_garbage_from_the_client_stops_the_walk_at_the_last_trusted_hop() -> None:
    assert resolve_client_ip(PROXY, [f"not-an-ip, {CLIENT}"]) == CLIENT
    assert resolve_client_ip(PROXY, ["not-an-ip, 10.0.0.6"]) == "10.0.0.6"


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_without_the_header_is_the_client() -> None:
    assert resolve_client_ip(PROXY, []) == PROXY


@pytest.mark.usefixtures("behind_proxy")
def test_ports_brackets_and_ipv6_are_understood() -> None:
    assert resolve_client_ip(PROXY, [f"{CLIENT}:4711"]) == CLIENT
    assert resolve_client_ip("2001:db8:1::2", ["[2001:db8:2::7]:443"]) == "2001:db8:2::7"
    assert resolve_client_ip("::ffff:10.0.0.5", [CLIENT]) == CLIENT


def test_a_missing_or_unreadable_peer_gives_none() -> None:
    assert resolve_client_ip(None, [CLIENT]) is None
    assert resolve_client_ip("unix-socket", [CLIENT]) is None


@pytest.mark.usefixtures("behind_proxy")
def test_from_scope_reads_the_peer_and_every_forwarded_header_in_order() -> None:
    scope = scope_from(PROXY, "198.51.100.1", CLIENT)

    assert client_ip_from_scope(scope) == CLIENT
    assert client_ip_from_scope(scope_from(None, CLIENT)) is None


def test_from_scope_ignores_the_header_of_an_untrusted_peer() -> None:
    assert client_ip_from_scope(scope_from(CLIENT, "198.51.100.1")) == CLIENT


@pytest.mark.usefixtures("behind_proxy")
def test_from_request_reads_remote_addr_and_the_header(rf: RequestFactory) -> None:
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.1, {CLIENT}")

    assert client_ip_from_request(request) == CLIENT


def test_from_request_spoofed_header_is_ignored_by_default(rf: RequestFactory) -> None:
    request = rf.get("/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert client_ip_from_request(request) == CLIENT


def test_a_bad_trusted_proxy_entry_is_ignored_with_a_warning(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.VOICE_TRUSTED_PROXIES = ["proxy.example.com", PROXY]

    with caplog.at_level(logging.WARNING, logger="voice.transports.client_ip"):
        address = resolve_client_ip(PROXY, [CLIENT])

    assert address == CLIENT
    assert "proxy.example.com" in caplog.text
