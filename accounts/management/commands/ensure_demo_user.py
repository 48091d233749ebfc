"""Make sure a demo account exists and print how to sign in with it.

The password is random, made once, and kept in ``var/demo_credentials`` (mode 0600), so
re-runs print the same credentials and no well-known password ever exists.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "demo"


class Command(BaseCommand):
    help = "Create the demo account if missing and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.VAR_DIR / "demo_credentials"
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        stored = json.loads(path.read_text()) if path.exists() else {}
        if user is None or not user.check_password(stored.get("password", "")):
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_user(USERNAME)
            user.set_password(password)
            user.is_active = True
            user.save()
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps({"username": USERNAME, "password": password}))
            stored = {"password": password}
        self.stdout.write(
            f"Demo account: username '{USERNAME}', password '{stored['password']}' (kept in {path})"
        )
