"""Plots as inline SVG, drawn on the server: a project's progress bar and its job
states over time. Only numbers and fixed words go into the markup (dates are
formatted here), so nothing from a server needs escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup

from gb2.jobs.timeline import CATEGORIES, Timeline

#: Colour classes (see app.css) of the states drawn, in stacking order.
CLASSES = {"Done": "s-done", "Failed": "s-failed", "Running": "s-running", "Scouting": "s-scouting",
           "Waiting": "s-waiting"}  # fmt: skip


def progress_bar(parts: Sequence[tuple[str, int]], total: int, label: str) -> Markup:
    """A horizontal bar of ``(state, jobs)`` parts, full width = ``total`` jobs."""
    rects = []
    x = 0.0
    for state, n in parts:
        if n <= 0 or total <= 0:
            continue
        width = 100.0 * n / total
        rects.append(f'<rect class="{CLASSES.get(state, "s-waiting")}" x="{x:.3f}" y="0" width="{width:.3f}" height="1"/>')
        x += width
    return Markup(
        f'<svg class="bar" viewBox="0 0 100 1" preserveAspectRatio="none" role="img" aria-label="{Markup.escape(label)}">'
        f'<rect class="bar-bg" x="0" y="0" width="100" height="1"/>{"".join(rects)}</svg>'
    )


def _stamp(t: datetime, span_seconds: float) -> str:
    return t.strftime("%H:%M:%S" if span_seconds < 3600 else "%H:%M" if span_seconds < 86400 else "%m-%d %H:%M")


def timeline_svg(timeline: Timeline, width: int = 600, height: int = 180) -> Markup:
    """Stacked areas of jobs per state over time, with the y maximum and the first and last times."""
    if timeline.empty:
        return Markup("")
    left, bottom, top = 36, 20, 6
    plot_w, plot_h = width - left - 4, height - bottom - top
    n = len(timeline.times)
    totals = [sum(timeline.counts[c][i] for c in CATEGORIES) for i in range(n)]
    peak = max(max(totals), 1)

    def x(i: int) -> float:
        return left + plot_w * i / max(n - 1, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    layers = []
    below = [0] * n
    for category in ("Done", "Failed", "Running", "Waiting"):
        above = [below[i] + timeline.counts[category][i] for i in range(n)]
        if any(timeline.counts[category]):
            upper = " ".join(f"{x(i):.1f},{y(above[i]):.1f}" for i in range(n))
            lower = " ".join(f"{x(i):.1f},{y(below[i]):.1f}" for i in reversed(range(n)))
            layers.append(f'<polygon class="{CLASSES[category]}" points="{upper} {lower}"><title>{category}</title></polygon>')
        below = above
    span = (timeline.times[-1] - timeline.times[0]).total_seconds()
    axis = (
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>'
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>'
        f'<text class="tick" x="{left - 4}" y="{top + 8}" text-anchor="end">{peak}</text>'
        f'<text class="tick" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>'
        f'<text class="tick" x="{left}" y="{height - 4}">{_stamp(timeline.times[0], span)}</text>'
        f'<text class="tick" x="{left + plot_w}" y="{height - 4}" text-anchor="end">{_stamp(timeline.times[-1], span)} UTC</text>'
    )
    return Markup(
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="jobs per state over time">{"".join(layers)}{axis}</svg>'
    )
