"""Cost against predicted latency for every viable option, with the cost/latency Pareto front marked.

What the axes mean depends on how the hardware is paid for and what the job is:
- rented or bought GPUs: monthly cost (log scale when the costs span more than 10×) against TTFT p90;
- owned GPUs: the GPUs an option occupies (their cost is already paid) against TTFT p90;
- a batch job with a stated item count: cost per run against the time one run takes.
The view opens zoomed on the recommended options (double-click shows everything), the rank labels are
spread around their markers so close points stay readable, and the title and margins leave room for the
toolbar on a phone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import plotly.graph_objects as go

from app.chat.labels import ms, short_model
from app.planning.result import Option, RecommendationResult

LatencyMetric = Literal["ttft", "e2e"]
LABEL_POSITIONS = ("top center", "bottom center", "middle right", "middle left", "top right", "bottom left")


def _key(o: Option) -> tuple[str, str, str, int, int]:
    return (o.model_id, o.gpu_id, o.precision, o.tp, o.replicas)


def plotted_options(result: RecommendationResult) -> list[Option]:
    """The recommended options plus every other viable one, without duplicates."""
    seen: dict[tuple[str, str, str, int, int], Option] = {}
    for o in [*result.options, *result.viable]:
        seen.setdefault(_key(o), o)
    return list(seen.values())


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both cost and latency (lower is better), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front: list[int] = []
    best_latency = float("inf")
    for i in order:
        if points[i][1] < best_latency:
            front.append(i)
            best_latency = points[i][1]
    return front


@dataclass(frozen=True)
class Axes:
    """What is plotted: x and y of an option, with titles."""

    kind: Literal["cost", "owned", "batch"]
    x_title: str
    y_title: str
    title: str
    batch_items: int | None = None

    def x(self, o: Option, metric: LatencyMetric) -> float:
        if self.kind == "batch":
            return self.run_hours(o)
        return o.ttft_ms.p90 if metric == "ttft" else o.e2e_ms.p95

    def y(self, o: Option) -> float:
        if self.kind == "owned":
            return float(o.gpus_total)
        if self.kind == "batch":
            return o.cost.hourly_usd * self.run_hours(o)
        return o.cost.monthly_usd

    def run_hours(self, o: Option) -> float:
        capacity = o.requests_per_s_capacity * o.replicas
        return (self.batch_items or 0) / capacity / 3600 if capacity > 0 else math.inf


def choose_axes(result: RecommendationResult, metric: LatencyMetric) -> Axes:
    spec = result.specification
    latency = "TTFT p90 (ms)" if metric == "ttft" else "E2E p95 (ms)"
    items = spec.get("batch_items")
    if items:
        return Axes("batch", "Hours per run", "USD per run", "Cost per run against run time", int(items))
    if spec.get("deployment_model") == "owned_hardware":
        return Axes("owned", latency, "GPUs used", "GPUs used against predicted latency")
    return Axes("cost", latency, "USD per month", "Monthly cost against predicted latency")


def _hover(o: Option, axes: Axes) -> str:
    extra = ""
    if axes.kind == "batch":
        extra = f"<br>{axes.run_hours(o):,.1f} h per run · ${axes.y(o):,.0f} per run"
    return (
        f"<b>{short_model(o.model_id)}</b><br>{o.gpus_total}× {o.gpu_id} (TP {o.tp} × {o.replicas})<br>"
        f"${o.cost.monthly_usd:,.0f}/month{extra}<br>"
        f"TTFT p90 {ms(o.ttft_ms.p90)} · TPOT p90 {ms(o.tpot_ms.p90)}"
        f"<br>E2E p95 {ms(o.e2e_ms.p95)} · quality "
        + ("unknown" if o.quality.basis == "unknown" else f"{o.quality.index:.0f}")
        + f"<br>basis: {o.basis}"
    )


def _padded(lo: float, hi: float, *, log: bool) -> list[float]:
    """An axis range around [lo, hi] with some room (in log10 units for a log axis)."""
    if log:
        lo, hi = math.log10(max(lo, 1e-9)), math.log10(max(hi, 1e-9))
        pad = max((hi - lo) * 0.15, 0.15)
    else:
        pad = max((hi - lo) * 0.15, abs(hi) * 0.1, 1e-6)
        lo = max(0.0, lo - pad) if lo >= 0 else lo - pad
        return [lo, hi + pad]
    return [lo - pad, hi + pad]


def cost_latency_figure(
    result: RecommendationResult, *, metric: LatencyMetric = "ttft", target_ms: float | None = None
) -> go.Figure:
    axes = choose_axes(result, metric)
    options = plotted_options(result)
    recommended = {_key(o): o.rank for o in result.options}
    xs = [axes.x(o, metric) for o in options]
    ys = [axes.y(o) for o in options]
    front = pareto_front(list(zip(ys, xs, strict=True)))
    fig = go.Figure()
    others = [i for i, o in enumerate(options) if _key(o) not in recommended]
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in others],
            y=[ys[i] for i in others],
            mode="markers",
            name="other viable",
            marker={"size": 7, "color": "#9aa5b1"},
            hovertext=[_hover(options[i], axes) for i in others],
            hoverinfo="text",
        )
    )
    top = sorted((i for i, o in enumerate(options) if _key(o) in recommended), key=lambda i: (xs[i], ys[i]))
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in top],
            y=[ys[i] for i in top],
            mode="markers+text",
            name="recommended",
            text=[f"#{recommended[_key(options[i])]}" for i in top],
            # Neighbours in x get different sides, so labels of close points do not sit on each other.
            textposition=[LABEL_POSITIONS[n % len(LABEL_POSITIONS)] for n in range(len(top))],
            textfont={"size": 12, "color": "#1e3a8a"},
            marker={"size": 12, "color": "#2563eb", "symbol": "diamond"},
            hovertext=[_hover(options[i], axes) for i in top],
            hoverinfo="text",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in front],
            y=[ys[i] for i in front],
            mode="lines",
            name="Pareto front",
            line={"color": "#16a34a", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    # Zoom on the recommended region; outliers stay in the data (double-click zooms out).
    focus = top or list(range(len(options)))
    fx = [xs[i] for i in focus if math.isfinite(xs[i])]
    fy = [ys[i] for i in focus if math.isfinite(ys[i])]
    all_y = [y for y in ys if math.isfinite(y) and y > 0]
    log_y = axes.kind != "owned" and bool(all_y) and max(all_y) > 10 * min(all_y)
    hidden = 0
    if fx and fy:
        x_range = _padded(min(fx), max(fx), log=False)
        show_target = target_ms is not None and axes.kind != "batch" and target_ms <= x_range[1] * 1.5
        if show_target and target_ms is not None:
            x_range[1] = max(x_range[1], target_ms * 1.1)
        y_range = _padded(min(fy), max(fy), log=log_y)
        fig.update_xaxes(range=x_range)
        fig.update_yaxes(range=y_range)
        lo_y, hi_y = (10 ** y_range[0], 10 ** y_range[1]) if log_y else (y_range[0], y_range[1])
        hidden = sum(1 for x, y in zip(xs, ys, strict=True) if not (x <= x_range[1] and lo_y <= y <= hi_y))
    else:
        show_target = target_ms is not None and axes.kind != "batch"
    if show_target and target_ms is not None:
        fig.add_vline(
            x=target_ms,
            line={"color": "#dc2626", "dash": "dot"},
            annotation_text=f"target {ms(target_ms)}",
            annotation_position="top left",
            annotation_font_size=11,
        )
    if log_y:
        fig.update_yaxes(type="log")
    subtitle = f"{hidden} more outside this view: double-click to see all" if hidden else ""
    fig.update_layout(
        title={
            "text": axes.title + (f"<br><sup>{subtitle}</sup>" if subtitle else ""),
            "x": 0.01,
            "xanchor": "left",
            "y": 0.96,
            "yanchor": "top",
            "font": {"size": 14},
        },
        xaxis_title=axes.x_title,
        yaxis_title=axes.y_title + (" (log scale)" if log_y else ""),
        height=420,
        # Room at the top for the toolbar on a phone, where it would otherwise cover the title.
        margin={"l": 56, "r": 12, "t": 88, "b": 40},
        modebar={"orientation": "v"},
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    return fig
