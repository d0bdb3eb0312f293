"""Preflight's quality index: one 0-100 number per model, from published benchmark scores.

Formula (also in docs/quality-index.md):

1. Each published score is put on a common scale with a per-benchmark floor and ceiling,
   ``s' = 100 × (score − floor) / (ceiling − floor)``, clipped to 0-100. The floor is chance level or what a
   weak model reaches; the ceiling is what the strongest open models reach (``BENCHMARK_SCALES``). Scores
   published as fractions (0.663) are read as percentages. Benchmarks not in the table are ignored
   (and named).
2. The index is the plain mean of the rescaled scores the catalog has for the model (``basis="published"``).
3. A model with no usable score gets an *estimate* (``basis="estimated"``): a least-squares line of the
   published indexes against log2 of the effective size (total parameters, or sqrt(total × active) for
   mixture-of-experts models), plus the mean residual of published models of the same family, clipped into
   the band of the catalog's curated ``quality_tier`` when it has one (standard 40-60, high 60-80,
   very_high 80-100).
4. Quantised weights cost a little quality: ``PRECISION_PENALTY`` points are subtracted per option.

``quality_threshold`` maps to a minimum index with ``THRESHOLDS``; the ``accuracy`` priority ranks by the
index.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.planning.result import Quality

# benchmark key -> (floor, ceiling) on the published percentage scale.
BENCHMARK_SCALES: dict[str, tuple[float, float]] = {
    "mmlu": (25.0, 90.0),
    "mmlupro": (10.0, 80.0),
    "humaneval": (0.0, 95.0),
    "ifeval": (30.0, 95.0),
    "gsm8k": (0.0, 95.0),
    "gpqa": (25.0, 75.0),
    "livecodebench": (0.0, 60.0),
    "arenahard": (0.0, 100.0),
    "aime": (0.0, 80.0),
    "math": (0.0, 95.0),
    "code": (0.0, 80.0),
}
THRESHOLDS: dict[str, float] = {"standard": 40.0, "high": 60.0, "very_high": 80.0}
TIER_BANDS: dict[str, tuple[float, float]] = {
    "standard": (40.0, 59.9),
    "high": (60.0, 79.9),
    "very_high": (80.0, 100.0),
}
PRECISION_PENALTY: dict[str, float] = {"bf16": 0.0, "fp16": 0.0, "fp8": 1.0, "int8": 1.0, "int4": 3.0}


def benchmark_key(name: str) -> str | None:
    """The BENCHMARK_SCALES key of a published benchmark name ('MMLU Pro (CoT)' -> 'mmlupro')."""
    text = re.sub(r"[^a-z0-9]", "", name.lower().split("(")[0])
    if text.startswith("mmlupro"):
        return "mmlupro"
    for key in ("humaneval", "ifeval", "gsm8k", "gpqa", "livecodebench", "arenahard", "aime", "mmlu"):
        if text.startswith(key):
            return key
    if text.startswith("math"):
        return "math"
    if text.startswith("code"):
        return "code"
    return None


def rescale(key: str, score: float) -> float:
    floor, ceiling = BENCHMARK_SCALES[key]
    value = score * 100.0 if 0.0 < score <= 1.0 else score
    return max(0.0, min(100.0, 100.0 * (value - floor) / (ceiling - floor)))


def published_index(scores: Sequence[dict[str, Any]]) -> tuple[float, str] | None:
    """Mean rescaled score and a one-line detail, or None when no score is usable."""
    used: list[str] = []
    values: list[float] = []
    ignored: list[str] = []
    for entry in scores or []:
        name = str(entry.get("benchmark", ""))
        score = entry.get("score")
        key = benchmark_key(name)
        if key is None or not isinstance(score, int | float):
            ignored.append(name)
            continue
        v = rescale(key, float(score))
        values.append(v)
        used.append(f"{name} {score:g}→{v:.0f}")
    if not values:
        return None
    index = sum(values) / len(values)
    detail = "mean of rescaled published scores: " + ", ".join(used)
    if ignored:
        detail += f" (not on the scale: {', '.join(ignored)})"
    return index, detail


@dataclass(frozen=True)
class ModelFacts:
    """What the index needs to know about a model."""

    id: str
    family: str
    total_params_b: float
    active_params_b: float
    scores: tuple[dict[str, Any], ...] = ()
    tier: str | None = None  # curated quality_tier judgement, for models without scores

    @property
    def effective_params_b(self) -> float:
        if self.active_params_b < self.total_params_b * 0.95:
            return math.sqrt(self.total_params_b * self.active_params_b)
        return self.total_params_b


def _family_key(family: str) -> str:
    """'llama-3.1' -> 'llama', 'qwen2.5-coder' -> 'qwen', 'deepseek-r1-distill' -> 'deepseek'."""
    match = re.match(r"[a-z]+", family.lower())
    return match.group(0) if match else family.lower()


def quality_indexes(models: Sequence[ModelFacts]) -> dict[str, Quality]:
    """The quality index of every model, published where scores exist, estimated otherwise."""
    out: dict[str, Quality] = {}
    fit_points: list[tuple[str, float, float]] = []  # family key, log2 size, index
    for m in models:
        got = published_index(m.scores)
        if got is None:
            continue
        index, detail = got
        out[m.id] = Quality(index=round(index, 1), basis="published", detail=detail)
        if m.effective_params_b > 0:
            fit_points.append((_family_key(m.family), math.log2(m.effective_params_b), index))
    a, b = _fit_line([(x, y) for _, x, y in fit_points])
    residuals: dict[str, list[float]] = {}
    for fam, x, y in fit_points:
        residuals.setdefault(fam, []).append(y - (a + b * x))
    for m in models:
        if m.id in out:
            continue
        size = max(m.effective_params_b, 0.05)
        base = a + b * math.log2(size)
        fam = _family_key(m.family)
        offset = sum(residuals[fam]) / len(residuals[fam]) if fam in residuals else 0.0
        value = base + offset
        detail = f"estimated from size ({size:.1f} B effective parameters: {base:.0f})"
        if fam in residuals:
            detail += f" and the published '{fam}' models ({offset:+.0f})"
        if m.tier in TIER_BANDS:
            lo, hi = TIER_BANDS[m.tier]
            clipped = min(max(value, lo), hi)
            if clipped != value:
                detail += f", kept within the catalog's '{m.tier}' tier ({lo:.0f}-{hi:.0f})"
            value = clipped
        out[m.id] = Quality(index=round(max(0.0, min(100.0, value)), 1), basis="estimated", detail=detail)
    return out


def _fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b x; a gentle prior (45 + 8 per doubling) when there are too few points."""
    if len(points) < 3:
        return 45.0, 8.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx <= 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def option_quality(base: Quality, precision: str) -> Quality:
    """The model's index less the precision penalty, saying so."""
    penalty = PRECISION_PENALTY.get(precision, 0.0)
    if penalty == 0:
        return base
    return Quality(
        index=round(max(0.0, base.index - penalty), 1),
        basis=base.basis,
        detail=f"{base.detail}; −{penalty:g} for {precision} weights",
    )


def meets_threshold(index: float, threshold: str) -> bool:
    return index >= THRESHOLDS[threshold]
