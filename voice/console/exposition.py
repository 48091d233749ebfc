"""The server metrics in Prometheus' text exposition format (version 0.0.4)."""

from __future__ import annotations

from typing import NamedTuple

from voice.console.metrics import ServerMetrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Family(NamedTuple):
    name: str
    kind: str  # "counter" | "gauge"
    help: str
    field: str  # the ServerMetrics key it exposes
    scale: float = 1.0


FAMILIES = (
    Family(
        "voice_connections_total",
        "counter",
        "Voice sessions opened, across all server processes.",
        "totalConnections",
    ),
    Family(
        "voice_active_connections",
        "gauge",
        "Voice sessions live now (owner heartbeat fresh).",
        "activeConnections",
    ),
    Family(
        "voice_frames_processed_total",
        "counter",
        "WebSocket messages handled in both directions, audio and control.",
        "totalFramesProcessed",
    ),
    Family(
        "voice_audio_frames_processed_total",
        "counter",
        "Audio chunks received from and sent to clients.",
        "audioFramesProcessed",
    ),
    Family("voice_messages_sent_total", "counter", "WebSocket messages sent.", "messagesSent"),
    Family(
        "voice_messages_received_total",
        "counter",
        "WebSocket messages received.",
        "messagesReceived",
    ),
    Family(
        "voice_errors_total",
        "counter",
        "Failed turns plus malformed audio frames dropped.",
        "errors",
    ),
    # Prometheus names carry base units, so the millisecond figure is shown in seconds.
    Family(
        "voice_average_latency_seconds",
        "gauge",
        "Mean voice-to-voice latency of the last hour's turns.",
        "averageLatency",
        0.001,
    ),
    Family(
        "voice_peak_concurrent_sessions",
        "gauge",
        "Most voice sessions open at once in the last 24 hours.",
        "peakConcurrentSessions",
    ),
)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_prometheus(metrics: ServerMetrics) -> str:
    """HELP and TYPE lines, then one sample, for each family; ends with a newline."""
    lines: list[str] = []
    for family in FAMILIES:
        # A str key into the TypedDict: every /metrics test fails if a field names no key.
        value = metrics[family.field] * family.scale  # type: ignore[literal-required]
        lines += [
            f"# HELP {family.name} {family.help}",
            f"# TYPE {family.name} {family.kind}",
            f"{family.name} {_number(value)}",
        ]
    return "\n".join(lines) + "\n"
