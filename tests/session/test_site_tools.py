"""The site knowledge base: importing pages, and the tools the model calls over them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from voice.models import SitePage
from voice.session.site_tools import (
    find_page,
    get_site_info,
    search_site,
    site_vocabulary,
    state_setters,
)

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "site"


@pytest.fixture
def sample_site() -> None:
    call_command("import_site", str(SAMPLE), stdout=io.StringIO())


def test_the_sample_site_imports_markdown_and_json(sample_site: None) -> None:
    pricing = SitePage.objects.get(slug="pricing")

    assert SitePage.objects.count() == 5
    assert pricing.title == "Pricing" and pricing.path == "/pricing"
    assert "team plan" in pricing.topics
    assert pricing.body.startswith("The Free plan")
    assert SitePage.objects.get(slug="privacy").path == "/privacy"


def test_importing_again_updates_instead_of_duplicating(sample_site: None) -> None:
    call_command("import_site", str(SAMPLE), stdout=io.StringIO())

    assert SitePage.objects.count() == 5


def test_if_empty_leaves_existing_pages_alone(sample_site: None) -> None:
    SitePage.objects.filter(slug="pricing").update(title="Prices")

    call_command("import_site", str(SAMPLE), "--if-empty", stdout=io.StringIO())

    assert SitePage.objects.get(slug="pricing").title == "Prices"


def test_a_page_without_a_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps([{"title": "No path"}]))

    with pytest.raises(CommandError, match="path"):
        call_command("import_site", str(tmp_path), stdout=io.StringIO())
    assert not SitePage.objects.exists()


def test_broken_json_is_refused_with_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "pages.json").write_text("[{")

    with pytest.raises(CommandError, match="pages.json"):
        call_command("import_site", str(tmp_path), stdout=io.StringIO())


def test_search_finds_pages_by_their_words(sample_site: None) -> None:
    results = search_site("how much does the team plan cost")

    assert results[0]["title"] == "Pricing"
    assert results[0]["path"] == "/pricing"


def test_search_for_nothing_finds_nothing(sample_site: None) -> None:
    assert search_site("   ") == []
    assert search_site("zzzqqq") == []


def test_a_page_is_found_by_name_slug_or_path(sample_site: None) -> None:
    assert find_page("pricing page").slug == "pricing"
    assert find_page("Support").slug == "support"
    assert find_page("anything", path="/privacy").slug == "privacy"
    assert find_page("the moon") is None


def test_site_info_lists_pages_or_a_topic(sample_site: None) -> None:
    overview = get_site_info()
    topic = get_site_info("opening hours")

    assert overview["page_count"] == 5
    assert topic["pages"][0]["title"] == "Support"


def test_the_vocabulary_holds_titles_and_topics(sample_site: None) -> None:
    words = site_vocabulary()

    assert "Pricing" in words and "team plan" in words and "opening hours" in words


def test_state_setters_become_tools_and_malformed_ones_are_skipped() -> None:
    context = {
        "stateSetters": {
            "cart": {
                "add": {"description": "Add an item", "parameters": {"type": "object"}},
                "bad": "not an object",
            },
            "weird key!": {"set": {"parameters": "nope"}},
            "broken": 5,
        }
    }

    setters = state_setters(context)

    assert set(setters) == {"set_cart__add", "set_weird_key___set"}
    assert setters["set_cart__add"].state_key == "cart"
    assert setters["set_weird_key___set"].spec.parameters == {"type": "object", "properties": {}}
