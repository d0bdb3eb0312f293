"""TTFT and ITL of one deployment over time against its targets (the chat's monitoring view)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

MIN_SPAN = timedelta(minutes=5)


def latency_over_time_figure(
    points: Sequence[Any],
    *,
    ttft_target_ms: float | None,
    itl_target_ms: float | None,
    ttft_predicted_ms: float | None = None,
    itl_predicted_ms: float | None = None,
    title: str = "Latency over time",
) -> go.Figure:
    """Two stacked panels (TTFT p90, ITL p90) from app/observe's SeriesPoint list; targets as red dotted
    lines, the prediction as a grey dashed line."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, subplot_titles=("TTFT p90", "ITL p90")
    )
    xs = [p.at for p in points]
    panels = (
        (1, "TTFT p90", [p.ttft_p90_ms for p in points], ttft_target_ms, ttft_predicted_ms, "#2563eb"),
        (2, "ITL p90", [p.itl_p90_ms for p in points], itl_target_ms, itl_predicted_ms, "#9333ea"),
    )
    for row, name, ys, target, predicted, color in panels:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=f"{name} observed",
                line={"color": color},
                hovertemplate="%{x|%H:%M:%S}: %{y:,.1f} ms<extra>" + name + "</extra>",
            ),
            row=row,
            col=1,
        )
        if target is not None:
            fig.add_hline(
                y=target,
                line={"color": "#dc2626", "dash": "dot"},
                annotation_text=f"target {target:,.0f} ms",
                row=row,
                col=1,
            )
        if predicted is not None:
            fig.add_hline(
                y=predicted,
                line={"color": "#6b7280", "dash": "dash"},
                annotation_text=f"predicted {predicted:,.1f} ms",
                annotation_position="bottom right",
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="ms", rangemode="tozero", row=row, col=1)
    if xs and max(xs) - min(xs) < MIN_SPAN:
        # A few samples close together: show at least a few minutes, not a millisecond-wide axis.
        middle = min(xs) + (max(xs) - min(xs)) / 2
        fig.update_xaxes(range=[middle - MIN_SPAN / 2, middle + MIN_SPAN / 2])
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        height=520,
        # The toolbar sits in the top margin, clear of the title and the target labels (on a phone too).
        margin={"l": 56, "r": 12, "t": 88, "b": 40},
        modebar={"orientation": "h"},
        legend={"orientation": "h", "y": -0.12},
    )
    return fig
