"""devtools is for tests and benchmarks: the server runs without it."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SERVER_PACKAGES = ("voice", "accounts", "voiceproject")


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_server_module_imports_devtools() -> None:
    modules = [path for package in SERVER_PACKAGES for path in (ROOT / package).rglob("*.py")]

    importers = sorted(
        str(path.relative_to(ROOT))
        for path in modules
        if any(name.split(".")[0] == "devtools" for name in _imported_modules(path))
    )

    assert modules
    assert importers == []


def test_devtools_is_not_an_installed_app() -> None:
    assert not any(app.split(".")[0] == "devtools" for app in settings.INSTALLED_APPS)
    assert apps.get_containing_app_config("devtools.fake_openai") is None
