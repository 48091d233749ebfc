"""What the server records: sessions, turns, the rate-limit ledger, key grants, site pages."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class VoiceSession(models.Model):
    """One live conversation over one transport with one engine."""

    class Transport(models.TextChoices):
        JSON = "json", "JSON /api/voice/ws"
        BINARY = "binary", "Binary /voice-ws"
        SOCKETIO = "socketio", "Socket.IO /voice"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    transport = models.CharField(max_length=16, choices=Transport.choices)
    engine = models.CharField(max_length=32)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)  # the client's voice settings
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    end_reason = models.CharField(max_length=64, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The server process that owns the live connection, and its last sign of life.
    owner = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    turn_count = models.PositiveIntegerField(default=0)
    frames_in = models.PositiveBigIntegerField(default=0)
    frames_out = models.PositiveBigIntegerField(default=0)
    bad_frames = models.PositiveIntegerField(default=0)
    messages_in = models.PositiveBigIntegerField(default=0)
    messages_out = models.PositiveBigIntegerField(default=0)
    audio_in_ms = models.PositiveBigIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # Server-added time per relayed audio frame (upstream receipt -> client socket), in ms.
    relay_frames = models.PositiveBigIntegerField(default=0)
    relay_p50_ms = models.FloatField(null=True, blank=True)
    relay_p99_ms = models.FloatField(null=True, blank=True)
    relay_max_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["ended_at", "heartbeat_at"], name="voice_live_idx")]

    def __str__(self) -> str:
        return f"{self.transport} session {self.id}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


class Turn(models.Model):
    """One exchange: the user's utterance (or typed text) and the assistant's answer.

    Stage times are stamped on one monotonic clock and stored as wall-clock instants.
    """

    class EndReason(models.TextChoices):
        COMPLETED = "completed"
        BARGE_IN = "barge_in"
        DISCONNECTED = "disconnected"
        ERROR = "error"
        CANCELLED = "cancelled"

    session = models.ForeignKey(VoiceSession, related_name="turns", on_delete=models.CASCADE)
    index = models.PositiveIntegerField()
    input_kind = models.CharField(max_length=8, default="audio")  # audio | text
    started_at = models.DateTimeField()
    speech_end_at = models.DateTimeField(null=True, blank=True)
    transcript_final_at = models.DateTimeField(null=True, blank=True)
    first_text_at = models.DateTimeField(null=True, blank=True)
    first_audio_at = models.DateTimeField(null=True, blank=True)
    response_done_at = models.DateTimeField(null=True, blank=True)
    barge_in_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    # Durations in ms (see DESIGN.md latency budget); null when a stage did not happen.
    stt_ms = models.PositiveIntegerField(null=True, blank=True)
    model_ms = models.PositiveIntegerField(null=True, blank=True)
    synthesis_ms = models.PositiveIntegerField(null=True, blank=True)
    server_ms = models.PositiveIntegerField(null=True, blank=True)
    voice_to_voice_ms = models.PositiveIntegerField(null=True, blank=True)
    user_text = models.TextField(blank=True)
    assistant_text = models.TextField(blank=True)
    usage = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["session", "index"]
        constraints = [
            models.UniqueConstraint(fields=["session", "index"], name="voice_turn_unique_index")
        ]
        indexes = [models.Index(fields=["started_at"], name="voice_turn_started_idx")]

    def __str__(self) -> str:
        return f"turn {self.index} of {self.session_id}"


class RateLimitBucket(models.Model):
    """The rate-limit ledger: one counter per key and fixed window, updated atomically."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_seconds = models.PositiveIntegerField()
    count = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="voice_ratelimit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M:%S}: {self.count}"


class TokenGrant(models.Model):
    """That an ephemeral Realtime key was issued: to whom, when, until when. Never the key."""

    session_id = models.UUIDField(default=uuid.uuid4, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    model = models.CharField(max_length=64)
    voice = models.CharField(max_length=32, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"key for {self.user} until {self.expires_at:%H:%M:%S}"


class SitePage(models.Model):
    """A page of the site: the knowledge base behind the site tools."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    path = models.CharField(max_length=300, help_text="URL path the client navigates to")
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    topics = models.CharField(max_length=300, blank=True, help_text="comma-separated")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
