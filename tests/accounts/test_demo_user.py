"""`ensure_demo_user` makes a demo account with a random password, once."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


def run(var_dir: Path) -> str:
    out = io.StringIO()
    with override_settings(VAR_DIR=var_dir):
        call_command("ensure_demo_user", stdout=out)
    return re.search(r"password '([^']+)'", out.getvalue()).group(1)


def test_it_creates_a_demo_account_that_can_sign_in(tmp_path: Path) -> None:
    password = run(tmp_path)

    assert User.objects.get(username="demo").check_password(password)
    assert (tmp_path / "demo_credentials").stat().st_mode & 0o077 == 0


def test_reruns_keep_the_same_password(tmp_path: Path) -> None:
    assert run(tmp_path) == run(tmp_path)
    assert User.objects.filter(username="demo").count() == 1


def test_each_install_gets_its_own_password(tmp_path: Path) -> None:
    first = run(tmp_path / "a")
    second = run(tmp_path / "b")

    assert first != second
