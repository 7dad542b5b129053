"""The report's charts: inline SVG drawn on the server by matplotlib (ADR 0042).

Each chart is a `Figure` of its own drawn by the SVG canvas (no pyplot, no global figure), its
text kept as text (`svg.fonttype` "none", a generic sans-serif family: no font is embedded or
fetched), its ids prefixed per chart so several charts can share one HTML page, and marked up as
an image with a title and a description for screen readers.
"""

import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator
from markupsafe import Markup, escape

# Read by savefig from the process-wide rcParams: set once, when the module loads, never per
# chart (a per-chart rc_context would race between threads). The hash salt makes the ids of the
# SVG the same on every run, so one audit always gives the same page.
matplotlib.rcParams.update({
    "svg.fonttype": "none",
    "svg.hashsalt": "limelight-audit-report",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9,
    "axes.edgecolor": "#8a8f98",
    "axes.labelcolor": "#333840",
    "xtick.color": "#4a4f58",
    "ytick.color": "#4a4f58",
})
# matplotlib is not thread-safe ("you must set up your own locks", its FAQ): the endpoint renders
# in a worker thread, so one chart is drawn at a time.
_LOCK = threading.Lock()

INK = "#1f3a93"
GRID = "#e3e6eb"
TICK = "#4a4f58"
# Colour-blind-safe (Okabe & Ito 2008); each cause also has its word on the chart.
CAUSE_COLOUR = {
    "unexplained": "#d55e00",
    "giveaway": "#e69f00",
    "collaboration": "#0072b2",
    "viral_post": "#009e73",
    "drop": "#6c6c6c",
}
CAUSE_LABEL = {
    "unexplained": "unexplained",
    "giveaway": "giveaway",
    "collaboration": "collaboration",
    "viral_post": "viral post",
    "drop": "drop",
}
AUDIENCE_COLOUR = {"real": "#009e73", "influencer": "#0072b2", "suspicious": "#d55e00", "mass_follower": "#e69f00"}
AUDIENCE_LABEL = {"real": "Real people", "influencer": "Influencers", "suspicious": "Suspicious",
                  "mass_follower": "Mass followers"}

_ID = re.compile(r'(\bid="|href="#|url\(#)')
_SIZE = re.compile(r'\swidth="[\d.]+pt" height="[\d.]+pt"')


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: Markup


def _svg(figure: Figure, chart_id: str, title: str, description: str) -> Chart:
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(
        buffer, metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # no XML prolog or DOCTYPE inside an HTML page
    text = _ID.sub(lambda m: f"{m.group(1)}{chart_id}-", text)
    text = _SIZE.sub("", text, count=1)  # the viewBox stays: the page sizes it
    head_end = text.index(">") + 1
    labelled = (
        f'{text[:head_end - 1]} role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    return Chart(chart_id, title, description, Markup(labelled + text[head_end:]))


def _plain_axes(figure: Figure, rect: Sequence[float]):
    """Axes without the top and right frame and without matplotlib's ticks: a tick is two lines
    with markers and two labels, and ticks were ~70 % of a chart's time (bench/audit_report.py).
    The labels and grid lines are drawn by `_labels`, a few texts and one line collection."""
    axes = figure.add_axes(rect)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(NullLocator())
        axis.set_minor_locator(NullLocator())
    return axes


def _labels(axes, *, x: Sequence[tuple[float, str]] = (), y: Sequence[tuple[float, str]] = (),
            grid_y: bool = False) -> None:
    """Tick labels under the x axis and left of the y axis (in data units along the axis), and
    optionally horizontal grid lines at the y labels (set the limits first)."""
    for value, text in x:
        axes.text(value, -0.03, text, transform=axes.get_xaxis_transform(), ha="center", va="top", color=TICK)
    for value, text in y:
        axes.text(-0.012, value, text, transform=axes.get_yaxis_transform(), ha="right", va="center", color=TICK)
    if grid_y and y:
        left, right = axes.get_xlim()
        axes.hlines([v for v, _ in y], left, right, colors=GRID, linewidth=0.8, zorder=0)


def _count(value: float, _position=None) -> str:
    return f"{value:,.0f}"


def _signed(value: float) -> str:
    return f"{round(value):+,}"


def _date_ticks(first: datetime, last: datetime) -> list[tuple[float, str]]:
    """Up to seven dates between first and last (matplotlib's AutoDateLocator), labelled "Mar"
    on month starts, else "14 Mar"; the year is added to the first label and to January."""
    locator = AutoDateLocator(maxticks=7)
    locator.create_dummy_axis()
    ticks = [num2date(v) for v in locator.tick_values(first, last)]
    ticks = [t for t in ticks if first <= t <= last]
    labels = []
    for i, t in enumerate(ticks):
        label = t.strftime("%b") if t.day == 1 else f"{t.day} {t.strftime('%b')}"
        labels.append(f"{label} {t.year}" if i == 0 or (t.day == 1 and t.month == 1) else label)
    return [(date2num(t), label) for t, label in zip(ticks, labels)]


def growth_chart(series: Sequence[Sequence], anomalies: Sequence[Mapping]) -> Chart | None:
    """The follower count over the audit's window, each anomaly shaded over its interval, marked at
    its end and labelled with its number, date, size and cause. None under two points."""
    if len(series) < 2:
        return None
    times = [datetime.fromisoformat(t) for t, _ in series]
    values = [int(f) for _, f in series]
    at = dict(zip(times, values))
    with _LOCK:
        figure = Figure(figsize=(8.0, 3.3))
        axes = _plain_axes(figure, (0.1, 0.12, 0.87, 0.8))
        axes.plot(times, values, color=INK, linewidth=1.6, solid_joinstyle="round")
        low, high = min(values), max(values)
        pad = max((high - low) * 0.25, high * 0.01, 1)
        axes.set_ylim(low - pad * 0.4, high + pad)
        axes.set_xlim(times[0], times[-1])
        bottom, top = axes.get_ylim()
        _labels(
            axes, x=_date_ticks(times[0], times[-1]),
            y=[(v, _count(v)) for v in MaxNLocator(5).tick_values(bottom, top) if bottom <= v <= top], grid_y=True,
        )
        middle = times[0] + (times[-1] - times[0]) / 2
        for number, anomaly in enumerate(anomalies, 1):
            start, end = datetime.fromisoformat(anomaly["start"]), datetime.fromisoformat(anomaly["end"])
            cause = anomaly.get("cause") or "drop"
            colour = CAUSE_COLOUR.get(cause, "#6c6c6c")
            axes.axvspan(start, end, color=colour, alpha=0.18, linewidth=0)
            y = at.get(end)
            if y is None:  # a thinned series may not hold the end: the nearest point held
                y = values[min(range(len(times)), key=lambda i: abs((times[i] - end).total_seconds()))]
            axes.plot([end], [y], marker="o", markersize=6, color=colour, markeredgecolor="white")
            label = f"{number}. {end.date().isoformat()}  {_signed(anomaly['change'])}  {CAUSE_LABEL.get(cause, cause)}"
            left = end > middle
            axes.annotate(
                label, xy=(end, y), xytext=(-8 if left else 8, 16 + 13 * ((number - 1) % 3)),
                textcoords="offset points", ha="right" if left else "left", va="bottom", fontsize=8,
                color="#222", arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 1},
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": colour, "linewidth": 0.8},
            )
        first, last = times[0].date().isoformat(), times[-1].date().isoformat()
        if anomalies:
            said = "; ".join(
                f"{n}: {datetime.fromisoformat(a['end']).date()} {_signed(a['change'])} followers, "
                f"{CAUSE_LABEL.get(a.get('cause') or 'drop', a.get('cause'))}"
                for n, a in enumerate(anomalies, 1)
            )
        else:
            said = "no spike or drop"
        description = (
            f"Followers from {first} ({values[0]:,}) to {last} ({values[-1]:,}), {len(values)} points; "
            f"anomalies: {said}."
        )
        return _svg(figure, "growth", "Follower growth", description)


def audience_chart(types: Mapping[str, int]) -> Chart | None:
    """The follower sample by audience type, one bar each with its share and count. None when the
    sample is empty."""
    order = ["real", "influencer", "suspicious", "mass_follower"]
    counts = [int(types.get(t, 0)) for t in order]
    total = sum(counts)
    if total == 0:
        return None
    with _LOCK:
        figure = Figure(figsize=(8.0, 2.2))
        axes = _plain_axes(figure, (0.17, 0.08, 0.7, 0.88))
        positions = list(range(len(order)))[::-1]
        axes.barh(positions, counts, color=[AUDIENCE_COLOUR[t] for t in order], height=0.62)
        axes.set_xlim(0, max(counts) * 1.28)
        axes.set_ylim(-0.5, len(order) - 0.5)
        _labels(axes, y=[(y, AUDIENCE_LABEL[t]) for y, t in zip(positions, order)])
        axes.spines["bottom"].set_visible(False)
        for y, n in zip(positions, counts):
            axes.text(n + max(counts) * 0.015, y, f"{n / total:.0%}  ({n:,})", va="center", fontsize=9, color="#222")
        description = "Follower sample of {:,}: ".format(total) + ", ".join(
            f"{AUDIENCE_LABEL[t].lower()} {n / total:.0%} ({n:,})" for t, n in zip(order, counts)
        ) + "."
        return _svg(figure, "audience", "Audience types", description)


DECADES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # engagement axis ticks, 0.01 % to 100 %


def _percent(value: float, _position=None) -> str:
    return f"{value * 100:.2g} %" if value < 0.01 else f"{value * 100:.3g} %"


def engagement_chart(details: Mapping) -> Chart | None:
    """The creator's engagement rate on a log scale against its peers: the published range
    shaded, the typical figure dashed, the zones where the flags fire shaded. None without a
    benchmark."""
    benchmark = details.get("benchmark")
    er = details.get("engagement_rate")
    if not benchmark or er is None or benchmark.get("low") is None or benchmark.get("high") is None:
        return None
    low, high, reference = benchmark["low"], benchmark["high"], benchmark.get("reference")
    below, above = details.get("flag_below", low / 3), details.get("flag_above", high * 3)
    shown = max(er, 1e-5)
    left = min(below / 2, shown / 1.6)
    right = max(above * 2, shown * 1.6)
    with _LOCK:
        figure = Figure(figsize=(8.0, 1.9))
        axes = _plain_axes(figure, (0.04, 0.3, 0.92, 0.55))
        axes.set_xscale("log")
        for axis in (axes.xaxis, axes.yaxis):  # the log scale brings its locators back
            axis.set_major_locator(NullLocator())
            axis.set_minor_locator(NullLocator())
        axes.set_xlim(left, right)
        axes.set_ylim(0, 1)
        _labels(axes, x=[(t, _percent(t)) for t in DECADES if left <= t <= right])
        axes.spines["left"].set_visible(False)
        axes.axvspan(left, below, facecolor="#d55e00", alpha=0.15, linewidth=0)
        axes.axvspan(above, right, facecolor="#d55e00", alpha=0.15, linewidth=0)
        axes.axvspan(low, high, color="#009e73", alpha=0.25, linewidth=0)
        axes.text((low * high) ** 0.5, 0.9, "peer range", ha="center", va="top", fontsize=8, color="#00664a")
        axes.text(left * 1.05, 0.9, "flagged: too low", ha="left", va="top", fontsize=8, color="#a04000")
        axes.text(right / 1.05, 0.9, "flagged: too high", ha="right", va="top", fontsize=8, color="#a04000")
        if reference:
            axes.axvline(reference, color="#00664a", linestyle="--", linewidth=1)
        axes.plot([shown], [0.4], marker="D", markersize=9, color=INK, markeredgecolor="white")
        axes.annotate(f"this creator {_percent(er)}", xy=(shown, 0.4), xytext=(0, -14), textcoords="offset points",
                      ha="center", va="top", fontsize=9, color=INK, fontweight="bold")
        peers = f"{details.get('platform', '')} {details.get('tier', '')}".strip()
        description = (
            f"Engagement rate {_percent(er)} against {peers} peers: published range {_percent(low)} to "
            f"{_percent(high)}" + (f", typical {_percent(reference)}" if reference else "")
            + f"; flagged below {_percent(below)} or above {_percent(above)}."
        )
        return _svg(figure, "engagement", "Engagement against tier peers", description)
