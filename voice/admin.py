"""The operator's view of what the server records. Recorded facts are read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.requests import SignedInRequest
from voice.console.control import DEFAULT_REASON, end_live_session
from voice.models import RateLimitBucket, SitePage, TokenGrant, Turn, VoiceSession

admin.site.site_header = "voiceproject operations"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the server: operators look, they do not edit."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# A turn's stage timings, as a session's inline rows and the turn list show them.
TURN_COLUMNS = (
    "index",
    "input_kind",
    "started_at",
    "voice_to_voice_ms",
    "stt_ms",
    "model_ms",
    "synthesis_ms",
    "server_ms",
    "end_reason",
)


class TurnInline(admin.TabularInline):
    model = Turn
    extra = 0
    can_delete = False
    fields = (*TURN_COLUMNS, "user_text", "assistant_text")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(VoiceSession)
class VoiceSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "transport",
        "engine",
        "started_at",
        "ended_at",
        "turn_count",
        "last_latency_ms",
        "end_reason",
        "owner",
    )
    list_filter = ("transport", "engine", "end_reason", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "user__username", "client_ip", "owner")
    list_select_related = ("user", "ended_by")
    date_hierarchy = "started_at"
    inlines = [TurnInline]
    actions = ["end_live_sessions"]

    @admin.action(description="End selected live sessions")
    def end_live_sessions(self, request: SignedInRequest, queryset: QuerySet[VoiceSession]) -> None:
        """Same as the console's End button, with the default reason."""
        live = queryset.filter(ended_at__isnull=True).values_list("pk", flat=True)
        ended = sum(end_live_session(pk, request.user.pk, DEFAULT_REASON) for pk in live)
        self.message_user(request, f"Ended {ended} live session(s).")


@admin.register(Turn)
class TurnAdmin(ReadOnlyAdmin):
    list_display = ("session", *TURN_COLUMNS)
    list_filter = ("end_reason", "input_kind", "session__engine", "session__transport")
    search_fields = ("session__id", "user_text", "assistant_text", "session__user__username")
    list_select_related = ("session", "session__user")
    date_hierarchy = "started_at"


@admin.register(RateLimitBucket)
class RateLimitBucketAdmin(ReadOnlyAdmin):
    list_display = ("key", "window_start", "window_seconds", "count", "expires_at")
    search_fields = ("key",)
    list_filter = ("window_seconds",)


@admin.register(TokenGrant)
class TokenGrantAdmin(ReadOnlyAdmin):
    list_display = ("session_id", "user", "model", "voice", "issued_at", "expires_at", "client_ip")
    list_filter = ("model", "voice")
    search_fields = ("session_id", "user__username", "client_ip")
    list_select_related = ("user",)
    date_hierarchy = "issued_at"


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    list_display = ("title", "path", "topics", "updated_at")
    search_fields = ("title", "path", "topics", "body")
    prepopulated_fields = {"slug": ("title",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[SitePage]:
        return super().get_queryset(request).defer("body")
