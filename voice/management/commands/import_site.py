"""Import site pages (the knowledge base of the site tools) from a folder.

Markdown files carry a front matter block (``path``, ``topics``, ``summary``, optional ``slug``
and ``title``) and a ``# Title`` heading; JSON files hold a list of page objects with the same
fields plus ``body``. Pages are matched by slug, so importing again updates them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from voice.models import SitePage

FIELDS = ("title", "path", "summary", "body", "topics")


def read_markdown(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    if text.startswith("---\n"):
        header, _, text = text[4:].partition("\n---\n")
        meta = yaml.safe_load(header) or {}
        if not isinstance(meta, dict):
            raise CommandError(f"{path}: the front matter must be a mapping")
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("# "):
        meta.setdefault("title", lines[0][2:].strip())
        lines = lines[1:]
    meta.setdefault("slug", path.stem)
    meta["body"] = " ".join(" ".join(lines).split())
    return meta


def read_json(path: Path) -> list[dict[str, Any]]:
    try:
        pages = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(pages, list) or not all(isinstance(p, dict) for p in pages):
        raise CommandError(f"{path}: expected a list of page objects")
    return pages


def clean(page: dict[str, Any], source: Path) -> dict[str, str]:
    """The page's fields as strings; title and path are required."""
    values = {name: page.get(name) or "" for name in FIELDS}
    if isinstance(values["topics"], list):
        values["topics"] = ", ".join(str(t) for t in values["topics"])
    values = {name: str(value).strip() for name, value in values.items()}
    if not values["title"] or not values["path"].startswith("/"):
        raise CommandError(f"{source}: every page needs a title and a path starting with /")
    values["slug"] = slugify(page.get("slug") or values["title"])[:100]
    return values


class Command(BaseCommand):
    help = "Import site pages from a folder of Markdown (.md) and JSON (.json) files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--if-empty", action="store_true", help="only when there are no site pages yet"
        )

    def handle(self, *args: Any, folder: Path, if_empty: bool = False, **options: Any) -> None:
        if if_empty and SitePage.objects.exists():
            self.stdout.write("site pages exist already: nothing imported")
            return
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        pages = []
        for path in sorted(folder.iterdir()):
            if path.suffix == ".md":
                pages.append(clean(read_markdown(path), path))
            elif path.suffix == ".json":
                pages += [clean(page, path) for page in read_json(path)]
        with transaction.atomic():
            for page in pages:
                slug = page.pop("slug")
                SitePage.objects.update_or_create(slug=slug, defaults=page)
        self.stdout.write(f"imported {len(pages)} page(s) from {folder}")
