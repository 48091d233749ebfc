"""Tools offered to the model: the site knowledge base and the client's state setters."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q

from voice.engines.base import ToolSpec
from voice.models import SitePage

SEARCH_LIMIT = 5
SETTER_SEPARATOR = "__"  # tool name of a setter: set_<stateKey>__<setterKey>
TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Words too common to tell pages apart.
STOP_WORDS = frozenset(
    "the and for are but not you your our with this that what how can does about from into "
    "please take show open page tell want would like there here have has".split()
)

SITE_TOOLS = (
    ToolSpec(
        "search_site",
        "Search this website's pages. Returns matching pages with their titles and summaries.",
        {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "what to look for"}},
            "required": ["query"],
        },
    ),
    ToolSpec(
        "navigate_to_page",
        "Take the user to a page of this website, by its name or path.",
        {
            "type": "object",
            "properties": {
                "page": {"type": "string", "description": "page name, e.g. 'pricing'"},
                "path": {"type": "string", "description": "URL path if known"},
            },
            "required": ["page"],
        },
    ),
    ToolSpec(
        "get_site_info",
        "General information about this website, or about one topic of it.",
        {"type": "object", "properties": {"topic": {"type": "string"}}},
    ),
)


def page_summary(page: SitePage) -> dict[str, str]:
    return {"title": page.title, "path": page.path, "summary": page.summary or page.body[:200]}


def search_site(query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, str]]:
    """Pages matching ``query``: full-text ranked on PostgreSQL, term matching elsewhere."""
    query = query.strip()[:200]
    if not query:
        return []
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("title", weight="A", config="english")
            + SearchVector("topics", "summary", weight="B", config="english")
            + SearchVector("body", weight="C", config="english")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        pages = (
            SitePage.objects.annotate(rank=SearchRank(vector, search))
            .filter(rank__gt=0.0)
            .order_by("-rank")[:limit]
        )
        found = list(pages)
        if found:
            return [page_summary(p) for p in found]
    return [page_summary(p) for p in _term_search(query, limit)]


def _term_search(query: str, limit: int) -> list[SitePage]:
    """Fallback: pages scored by how many query words they contain, titles counting most."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2 and w not in STOP_WORDS]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= (
            Q(title__icontains=word)
            | Q(topics__icontains=word)
            | Q(summary__icontains=word)
            | Q(body__icontains=word)
        )
    scored = []
    for page in SitePage.objects.filter(condition)[:200]:
        title, rest = page.title.lower(), f"{page.topics} {page.summary} {page.body}".lower()
        score = sum(3 * (w in title) + (w in rest) for w in words)
        scored.append((score, page.title, page))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [page for _, _, page in scored[:limit]]


def find_page(page: str, path: str | None = None) -> SitePage | None:
    """The page meant by a name or path, or the best search hit."""
    if path:
        found = SitePage.objects.filter(path=path).first()
        if found:
            return found
    name = page.strip().lower().removesuffix(" page")
    found = (
        SitePage.objects.filter(Q(slug__iexact=name.replace(" ", "-")) | Q(title__iexact=name))
        .order_by("title")
        .first()
    )
    if found:
        return found
    hits = _term_search(name, 1) if name else []
    return hits[0] if hits else None


def site_vocabulary(limit: int = 200) -> tuple[str, ...]:
    """Page titles and topics: what users of this site are likely to say."""
    phrases: dict[str, None] = {}
    for title, topics in SitePage.objects.values_list("title", "topics")[:limit]:
        phrases[title] = None
        for topic in topics.split(","):
            if topic.strip():
                phrases[topic.strip()] = None
    return tuple(phrases)


def get_site_info(topic: str | None = None) -> dict[str, Any]:
    if topic:
        return {"topic": topic, "pages": search_site(topic)}
    pages = list(SitePage.objects.order_by("title")[:20])
    return {"pages": [page_summary(p) for p in pages], "page_count": SitePage.objects.count()}


@dataclass(frozen=True)
class SiteToolResult:
    """A site tool's output for the model, and the page to take the user to, if any."""

    output: dict[str, Any]
    page: SitePage | None = None


def run_site_tool(name: str, args: dict[str, Any]) -> SiteToolResult | None:
    """Run the site tool ``name`` (ORM work); None when no site tool has that name."""
    if name == "search_site":
        return SiteToolResult({"results": search_site(str(args.get("query", "")))})
    if name == "get_site_info":
        topic = args.get("topic")
        return SiteToolResult(get_site_info(str(topic) if topic else None))
    if name == "navigate_to_page":
        wanted, path = str(args.get("page", "")), args.get("path")
        page = find_page(wanted, str(path) if path else None)
        if page is None:
            return SiteToolResult({"ok": False, "error": f"no page called {wanted!r}"})
        return SiteToolResult({"ok": True, "page": page.title, "path": page.path}, page)
    return None


@dataclass(frozen=True)
class StateSetter:
    state_key: str
    setter_key: str
    spec: ToolSpec


def state_setters(context: dict[str, Any]) -> dict[str, StateSetter]:
    """The client's ``context.stateSetters`` as tools, by tool name; malformed ones skipped."""
    setters: dict[str, StateSetter] = {}
    raw = context.get("stateSetters")
    if not isinstance(raw, dict):
        return setters
    for state_key, group in raw.items():
        if not isinstance(group, dict):
            continue
        for setter_key, definition in group.items():
            if not isinstance(definition, dict):
                continue
            parameters = definition.get("parameters")
            if not isinstance(parameters, dict) or parameters.get("type") != "object":
                parameters = {"type": "object", "properties": {}}
            name = TOOL_NAME.sub("_", f"set_{state_key}{SETTER_SEPARATOR}{setter_key}")[:64]
            description = str(definition.get("description") or f"Set {state_key}.{setter_key}")
            setters[name] = StateSetter(
                str(state_key), str(setter_key), ToolSpec(name, description[:1000], parameters)
            )
    return setters


def parse_arguments(arguments: str) -> dict[str, Any]:
    """The model's JSON arguments as a dict; anything else becomes ``{}``."""
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
