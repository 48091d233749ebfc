"""A missing browser skips the browser tests with the reason, and fails them in CI.

Each case runs a one-test pytest session in a subprocess, with the switch on or off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS_BROWSER = """
from tests.browser.chromium import require_browser

def test_needs_the_browser():
    require_browser()
"""


def run_session(tmp_path: Path, *, require: bool, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on a test that needs the browser, outside this suite's settings and plugins."""
    (tmp_path / "test_needs_browser.py").write_text(NEEDS_BROWSER)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VOICE_", "DJANGO_"))}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [env.pop("PYTHONPATH", ""), str(ROOT)]))
    clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a tenth of the start-up time
    if require:
        clean["VOICE_REQUIRE_BROWSER"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def no_chromium(tmp_path: Path) -> dict[str, str]:
    return {"VOICE_CHROMIUM": str(tmp_path / "bin" / "chromium")}


@pytest.fixture
def no_playwright(tmp_path: Path) -> dict[str, str]:
    """Chromium stands in as any executable; Playwright's package is shadowed by one that fails."""
    shadow = tmp_path / "shadow" / "playwright"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    return {"VOICE_CHROMIUM": sys.executable, "PYTHONPATH": str(shadow.parent)}


def test_without_the_switch_a_missing_chromium_skips_with_the_reason(
    tmp_path: Path, no_chromium: dict[str, str]
) -> None:
    session = run_session(tmp_path, require=False, **no_chromium)

    assert session.returncode == 0, session.stdout
    assert "1 skipped" in session.stdout
    assert f"needs Chromium at {no_chromium['VOICE_CHROMIUM']}: apt-get" in session.stdout


def test_under_the_switch_a_missing_chromium_fails_with_the_reason(
    tmp_path: Path, no_chromium: dict[str, str]
) -> None:
    session = run_session(tmp_path, require=True, **no_chromium)

    assert session.returncode == 1, session.stdout
    assert f"Failed: needs Chromium at {no_chromium['VOICE_CHROMIUM']}" in session.stdout
    assert "VOICE_REQUIRE_BROWSER=1: the browser tests must run here" in session.stdout


def test_without_the_switch_a_missing_playwright_skips_with_the_reason(
    tmp_path: Path, no_playwright: dict[str, str]
) -> None:
    session = run_session(tmp_path, require=False, **no_playwright)

    assert session.returncode == 0, session.stdout
    assert "1 skipped" in session.stdout
    assert "needs Playwright's Python package" in session.stdout


def test_under_the_switch_a_missing_playwright_fails_with_the_reason(
    tmp_path: Path, no_playwright: dict[str, str]
) -> None:
    session = run_session(tmp_path, require=True, **no_playwright)

    assert session.returncode == 1, session.stdout
    assert "Failed: needs Playwright's Python package" in session.stdout
