"""The offline responder: intents, tool arguments, and answers built from tool results."""

from __future__ import annotations

import json

import pytest

from voice.engines.base import ToolSpec
from voice.engines.local.responder import Responder

THEME = ToolSpec(
    "set_theme__setMode",
    "Switch the color theme between light and dark mode",
    {"type": "object", "properties": {"mode": {"enum": ["light", "dark"]}}, "required": ["mode"]},
)
SITE = tuple(ToolSpec(n, "", {}) for n in ("search_site", "navigate_to_page", "get_site_info"))


@pytest.fixture
def responder() -> Responder:
    return Responder(hints=("Pricing", "API reference", "Careers"), tools=(*SITE, THEME))


@pytest.mark.parametrize(
    ("said", "tool", "arguments"),
    [
        ("take me to the pricing page", "navigate_to_page", {"page": "pricing"}),
        ("Open the careers page, please.", "navigate_to_page", {"page": "careers"}),
        ("pricing", "navigate_to_page", {"page": "pricing"}),
        ("search for webhook documentation", "search_site", {"query": "webhook documentation"}),
        ("find articles about security", "search_site", {"query": "security"}),
        ("how much does the team plan cost", "search_site", {"query": "team plan cost"}),
        ("tell me about the enterprise plan", "get_site_info", {"topic": "enterprise plan"}),
        ("what is this website about", "get_site_info", {}),
        ("switch to dark mode", "set_theme__setMode", {"mode": "dark"}),
    ],
)
def test_requests_become_tool_calls(
    responder: Responder, said: str, tool: str, arguments: dict
) -> None:
    plan = responder.plan(said)

    assert (plan.tool, plan.arguments) == (tool, arguments)


def test_small_talk_is_answered_without_tools(responder: Responder) -> None:
    assert responder.plan("hello there").reply.startswith("Hello!")
    assert "welcome" in responder.plan("thank you very much").reply
    assert "search this site" in responder.plan("what can you do").reply


def test_not_understood_says_what_works_offline(responder: Responder) -> None:
    reply = responder.plan("i like turtles").reply

    assert '"i like turtles"' in reply
    assert "running offline" in reply
    assert "take me to the pricing page" in reply


def test_search_answer_is_built_from_the_results(responder: Responder) -> None:
    plan = responder.plan("search for pricing")
    results = [
        {"title": "Pricing", "path": "/pricing", "summary": "Plans start at ten dollars."},
        {"title": "Enterprise", "path": "/enterprise", "summary": "Custom plans."},
    ]

    reply = responder.answer(plan, json.dumps({"results": results}))

    assert reply.startswith("I found two pages about pricing: Pricing and Enterprise.")
    assert "Plans start at ten dollars." in reply


def test_open_the_first_one_follows_the_last_search(responder: Responder) -> None:
    plan = responder.plan("search for pricing")
    responder.answer(plan, json.dumps({"results": [{"title": "Pricing", "path": "/pricing"}]}))

    follow_up = responder.plan("open the first one")

    assert follow_up.tool == "navigate_to_page"
    assert follow_up.arguments == {"page": "Pricing", "path": "/pricing"}


def test_navigation_answers_confirm_or_admit_failure(responder: Responder) -> None:
    plan = responder.plan("go to the pricing page")

    done = responder.answer(plan, json.dumps({"ok": True, "page": "Pricing", "path": "/p"}))
    missing = responder.answer(plan, json.dumps({"ok": False, "error": "no page"}))

    assert done == "Taking you to the Pricing page."
    assert missing == "I couldn't find a page called pricing."


def test_no_tool_result_in_time_is_said_plainly(responder: Responder) -> None:
    plan = responder.plan("search for pricing")

    assert "didn't answer in time" in responder.answer(plan, None)


def test_setter_answer_names_the_change(responder: Responder) -> None:
    plan = responder.plan("switch to dark mode")

    reply = responder.answer(plan, json.dumps({"ok": True, "applied": "theme.setMode"}))

    assert reply == "Okay, I set the theme mode to dark."
