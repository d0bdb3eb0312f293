"""Cost against predicted latency for every viable option, with the cost/latency Pareto front marked."""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go

from app.planning.result import Option, RecommendationResult

LatencyMetric = Literal["ttft", "e2e"]


def _latency(option: Option, metric: LatencyMetric) -> float:
    return option.ttft_ms.p90 if metric == "ttft" else option.e2e_ms.p95


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


def _hover(o: Option, metric: LatencyMetric) -> str:
    return (
        f"<b>{o.model_id}</b><br>{o.gpus_total}× {o.gpu_id} (TP {o.tp} × {o.replicas})<br>"
        f"${o.cost.monthly_usd:,.0f}/month<br>"
        f"TTFT p90 {o.ttft_ms.p90:,.0f} ms · TPOT p90 {o.tpot_ms.p90:,.0f} ms"
        f"<br>E2E p95 {o.e2e_ms.p95:,.0f} ms · quality {o.quality.index:.0f}<br>basis: {o.basis}"
    )


def cost_latency_figure(
    result: RecommendationResult, *, metric: LatencyMetric = "ttft", target_ms: float | None = None
) -> go.Figure:
    options = plotted_options(result)
    recommended = {_key(o): o.rank for o in result.options}
    xs = [_latency(o, metric) for o in options]
    ys = [o.cost.monthly_usd for o in options]
    front = pareto_front(list(zip(ys, xs, strict=True)))
    label = "TTFT p90 (ms)" if metric == "ttft" else "E2E p95 (ms)"
    fig = go.Figure()
    others = [i for i, o in enumerate(options) if _key(o) not in recommended]
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in others],
            y=[ys[i] for i in others],
            mode="markers",
            name="viable",
            marker={"size": 8, "color": "#9aa5b1"},
            hovertext=[_hover(options[i], metric) for i in others],
            hoverinfo="text",
        )
    )
    top = [i for i, o in enumerate(options) if _key(o) in recommended]
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in top],
            y=[ys[i] for i in top],
            mode="markers+text",
            name="recommended",
            text=[f"#{recommended[_key(options[i])]}" for i in top],
            textposition="top center",
            marker={"size": 13, "color": "#2563eb", "symbol": "diamond"},
            hovertext=[_hover(options[i], metric) for i in top],
            hoverinfo="text",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in front],
            y=[ys[i] for i in front],
            mode="lines+markers",
            name="Pareto front",
            line={"color": "#16a34a", "dash": "dash"},
            marker={"size": 6, "color": "#16a34a"},
            hoverinfo="skip",
        )
    )
    if target_ms is not None:
        fig.add_vline(x=target_ms, line={"color": "#dc2626", "dash": "dot"}, annotation_text="target")
    fig.update_layout(
        title="Monthly cost against predicted latency",
        xaxis_title=label,
        yaxis_title="USD per month",
        height=420,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
