"""The request type of views that only a signed-in account reaches."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    """An ``HttpRequest`` past a login or staff check, so ``user`` is an account, never anonymous.

    Only an annotation: Django hands such views a plain ``HttpRequest``.
    """

    user: User
