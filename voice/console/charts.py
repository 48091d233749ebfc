"""Server-rendered SVG charts (pygal): latency over time, per engine, and a turn timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.etree import etree
from pygal.style import Style

from voice.console.latency import QUANTILES, STAGES, Group
from voice.models import Turn

# Dark strokes on white: every colour passes WCAG AA (4.5:1) against the background.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#595959",
    opacity="0.9",
    opacity_hover="1",
    colors=("#1f4e99", "#b3261e", "#1b6e35", "#6b3fa0", "#7a5000", "#00626b"),
    font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=15,
    title_font_size=17,
    no_data_font_size=18,
)
QUANTILE_NAMES = {0.5: "median", 0.95: "p95"}
TIMELINE_STAGES = ("stt_ms", "model_ms", "synthesis_ms", "server_ms")


def _base(**options: Any) -> dict[str, Any]:
    # No js: pygal's default pulls tooltips from a CDN; the page stays self-contained.
    return {
        "js": [],
        "style": STYLE,
        "width": 640,
        "height": 320,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "no_data_text": "No measurements in this range",
        "y_title": "ms",
        **options,
    }


def _render(chart: Any, label: str) -> SafeString:
    """The chart as inline SVG, announced to assistive tech as one labelled image."""
    root = chart.render_tree()
    # pygal embeds its config in a <script> for optional tooltips; the page runs no chart code.
    for parent in root.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.endswith("script"):
                parent.remove(child)
    root.set("role", "img")
    root.set("aria-label", label)
    # Safe: the XML serializer escapes every title, label and attribute.
    return mark_safe(etree.tostring(root, encoding="unicode"))


def over_time(groups: Sequence[Group], stage: str, label_format: str) -> SafeString:
    """Median and p95 of one stage per time bucket, as lines."""
    title = f"{STAGES[stage].capitalize()}: median and p95"
    chart = pygal.Line(
        **_base(title=title, x_label_rotation=0, show_minor_x_labels=False),
        x_labels_major_every=max(1, len(groups) // 6),
    )
    chart.x_labels = [group.key.strftime(label_format) for group in groups]
    for q in QUANTILES:
        chart.add(QUANTILE_NAMES[q], [group.get(stage, q) for group in groups])
    return _render(chart, f"{title} over time, in milliseconds")


def per_engine(groups: Sequence[Group]) -> SafeString:
    """Median and p95 of every stage, one pair of bars per engine."""
    title = "Latency per engine: median and p95"
    chart = pygal.Bar(**_base(title=title, height=340))
    chart.x_labels = list(STAGES.values())
    for group in groups:
        for q in QUANTILES:
            values = [group.get(stage, q) for stage in STAGES]
            chart.add(f"{group.key} {QUANTILE_NAMES[q]}", values)
    return _render(chart, f"{title}, in milliseconds, per stage")


def turn_timeline(turns: Sequence[Turn]) -> SafeString:
    """One stacked bar per turn: its stages end to end, from end of speech to first audio."""
    title = "Turns: time from end of speech to first audio, by stage"
    chart = pygal.HorizontalStackedBar(
        # Horizontal: the values run along the x axis, so that is where "ms" belongs.
        **_base(
            title=title,
            width=720,
            height=max(220, 80 + 28 * len(turns)),
            no_data_text="No turns",
            x_title="ms",
            y_title=None,
        )
    )
    # pygal draws the first label at the bottom; reverse so turn 0 is on top, as in the table.
    ordered = list(reversed(turns))
    chart.x_labels = [f"turn {turn.index}" for turn in ordered]
    for stage in TIMELINE_STAGES:
        chart.add(STAGES[stage], [getattr(turn, stage) for turn in ordered])
    return _render(chart, f"{title}, in milliseconds")
