"""Settings read the environment, refuse bad values loudly, and pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_reports_nothing_with_production_settings(tmp_path: Path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k3Y-" + "x9Qz_7Lm2" * 7,
        ALLOWED_HOSTS="voice.example.com",
        HTTPS_ONLY="true",
        VOICE_VAR_DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_https(tmp_path: Path) -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", VOICE_VAR_DIR=str(tmp_path)
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_a_bad_boolean_fails_at_start_up_naming_the_variable() -> None:
    result = manage("check", DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_an_unknown_engine_fails_at_start_up() -> None:
    result = manage("check", VOICE_ENGINE="gpt-teleport")

    assert result.returncode != 0
    assert "VOICE_ENGINE='gpt-teleport' must be one of" in result.stderr


def test_a_bad_number_fails_at_start_up() -> None:
    result = manage("check", VOICE_AUTH_TIMEOUT="soon")

    assert result.returncode != 0
    assert "VOICE_AUTH_TIMEOUT='soon' is not a number" in result.stderr


def test_the_engine_defaults_to_local_without_a_key_and_realtime_with_one() -> None:
    code = "from django.conf import settings; print(settings.VOICE_ENGINE)"
    without = manage("shell", "-c", code, OPENAI_API_KEY="")
    with_key = manage("shell", "-c", code, OPENAI_API_KEY="sk-x")

    assert without.stdout.splitlines()[-1] == "local"
    assert with_key.stdout.splitlines()[-1] == "openai-realtime"
