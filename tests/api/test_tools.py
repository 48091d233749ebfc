"""POST /api/tools/<name>: the server's site tools for a page on a direct WebRTC call."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import token_for
from voice.api.tools import ARGUMENTS
from voice.models import SitePage
from voice.session.site_tools import SITE_TOOLS

pytestmark = pytest.mark.django_db


@pytest.fixture
def pricing() -> SitePage:
    return SitePage.objects.create(
        slug="pricing", title="Pricing", path="/pricing", summary="Plans and prices."
    )


def call(client: Client, name: str, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/tools/{name}", body, content_type="application/json", headers=headers)


def test_every_site_tool_offered_to_the_model_can_be_run_here() -> None:
    assert set(ARGUMENTS) == {tool.name for tool in SITE_TOOLS}


def test_search_answers_what_the_servers_search_finds(
    client: Client, alice_token: str, pricing: SitePage
) -> None:
    SitePage.objects.create(slug="team", title="Team", path="/team", summary="Who we are.")

    response = call(client, "search_site", {"query": "what are the prices"}, alice_token)

    assert response.status_code == 200
    assert response.json() == {
        "results": [{"title": "Pricing", "path": "/pricing", "summary": "Plans and prices."}]
    }


def test_navigation_names_the_page_the_user_meant(
    client: Client, alice_token: str, pricing: SitePage
) -> None:
    response = call(client, "navigate_to_page", {"page": "Pricing page"}, alice_token)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "page": "Pricing", "path": "/pricing"}


def test_navigation_to_a_page_that_is_not_there_says_so(
    client: Client, alice_token: str, pricing: SitePage
) -> None:
    response = call(client, "navigate_to_page", {"page": "careers"}, alice_token)

    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "no page called 'careers'"}


def test_navigation_prefers_a_known_path(
    client: Client, alice_token: str, pricing: SitePage
) -> None:
    SitePage.objects.create(slug="plans", title="Plans", path="/plans")

    response = call(client, "navigate_to_page", {"page": "prices", "path": "/plans"}, alice_token)

    assert response.json() == {"ok": True, "page": "Plans", "path": "/plans"}


def test_site_info_lists_the_pages(client: Client, alice_token: str, pricing: SitePage) -> None:
    response = call(client, "get_site_info", {}, alice_token)

    assert response.status_code == 200
    assert response.json() == {
        "pages": [{"title": "Pricing", "path": "/pricing", "summary": "Plans and prices."}],
        "page_count": 1,
    }


def test_site_info_on_a_topic_searches(client: Client, alice_token: str, pricing: SitePage) -> None:
    response = call(client, "get_site_info", {"topic": "prices"}, alice_token)

    assert response.json()["topic"] == "prices"
    assert [page["path"] for page in response.json()["pages"]] == ["/pricing"]


@pytest.mark.parametrize(
    "name,body",
    [
        ("search_site", {}),  # query is required
        ("search_site", {"query": ["a", "list"]}),
        ("navigate_to_page", {"path": "/pricing"}),  # page is required
        ("get_site_info", {"topic": {"nested": True}}),
        ("get_site_info", ["not", "an", "object"]),
    ],
)
def test_arguments_that_do_not_fit_are_refused(
    client: Client, alice_token: str, name: str, body: Any
) -> None:
    response = call(client, name, body, alice_token)

    assert response.status_code == 400


def test_an_unknown_tool_is_not_found(client: Client, alice_token: str) -> None:
    response = call(client, "set_theme__setTheme", {"mode": "dark"}, alice_token)

    assert response.status_code == 404


def test_without_a_token_nothing_runs(client: Client, pricing: SitePage) -> None:
    response = call(client, "search_site", {"query": "prices"}, None)

    assert response.status_code == 401


def test_an_inactive_users_token_is_refused(client: Client, bob: User) -> None:
    response = call(client, "search_site", {"query": "prices"}, token_for(bob))

    assert response.status_code == 401
