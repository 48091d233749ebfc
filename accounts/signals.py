"""A user who loses access loses their live voice sessions too (PROTOCOL.md section 1).

Deactivating a user, changing their password or deleting them asks every process, over the
channel layer, to close that user's sessions with 4401 once the change is committed. Changes
that bypass these signals (``queryset.update``) are caught by each session's heartbeat.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from voice.services.sessions import live_session_ids
from voice.session.live import request_revoke

# Set on a user instance between its pre- and post- signals: the sessions to end.
PENDING = "_voice_sessions_to_revoke"
ACCESS_FIELDS = frozenset({"is_active", "password"})


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="voice-revoke-pre-save")
def note_lost_access(
    sender: Any, instance: Any, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    """Before a user's save: if it takes access away, remember their live sessions."""
    if instance.pk is None or (update_fields is not None and not ACCESS_FIELDS & update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values("is_active", "password").first()
    if before is None:
        return
    deactivated = before["is_active"] and not instance.is_active
    if deactivated or before["password"] != instance.password:
        setattr(instance, PENDING, live_session_ids(instance.pk))


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="voice-revoke-pre-delete")
def note_deleted_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Afterwards the session rows no longer name the user (SET_NULL): find them now.
    setattr(instance, PENDING, live_session_ids(instance.pk))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="voice-revoke-post-save")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="voice-revoke-post-delete")
def revoke_sessions(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Once the change is committed, end the sessions noted before it."""
    session_ids = instance.__dict__.pop(PENDING, None)
    if session_ids:
        transaction.on_commit(partial(request_revoke, session_ids))
