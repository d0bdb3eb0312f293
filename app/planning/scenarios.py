"""What-if scenarios: save a specification with its chosen option, re-plan with changes, compare side by side.

A scenario is a named (specification, chosen option) pair in the ``scenarios`` table, pointing at the stored
recommendation it came from. ``comparison`` builds the seed design's Scenario A / B table with deltas against
the first scenario; ``tighten_report`` answers "which configurations stay viable if the TTFT target tightens
to X?". The rows are loaded and stored by the service (``app.services.scenario_store``); no I/O here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.errors import Conflict, Invalid, NotFound, describe
from app.intent.schema import Specification
from app.planning.explain import (
    ms,
    option_work_lines,
    rejection_lines,
    short,
    traffic_reading_line,
    usd,
)
from app.planning.quality import THRESHOLDS
from app.planning.result import Option, RecommendationResult


class ScenarioError(Invalid, ValueError):
    """A scenario cannot be saved or re-planned; the message says why."""


class ScenarioNotFound(NotFound, ScenarioError):
    """No such scenario (or recommendation) visible to the caller."""


class ScenarioExists(Conflict, ScenarioError):
    """The name is taken by one of the caller's scenarios."""


class ScenarioView(BaseModel):
    id: int
    name: str
    created_at: datetime
    recommendation_id: str | None
    option_rank: int | None
    specification: dict[str, Any]
    option: dict[str, Any] | None
    summary: str


class ScenarioColumn(BaseModel):
    name: str
    model: str
    gpus: str
    monthly_usd: float
    ttft_p90_ms: float
    tpot_p90_ms: float
    e2e_p95_ms: float
    throughput_rps: float
    quality_index: float
    gpus_total: int
    verdicts: dict[str, str]


class Comparison(BaseModel):
    columns: list[ScenarioColumn]
    deltas: list[dict[str, Any]] = Field(
        description="One entry per scenario after the first: metric -> delta"
    )
    rows: list[list[str]] = Field(
        description="The side-by-side table as text cells, with a Difference column"
    )


class TightenReport(BaseModel):
    ttft_p90_ms: float
    recommendation_id: str | None
    stays: list[str]
    drops: list[str]
    new: list[str]
    summary: str
    lines: list[str]


NAME_MAX = 120


def summary_of(option: dict[str, Any] | None) -> str:
    if not option:
        return "no option chosen"
    cost = option.get("cost", {})
    checks = {c["metric"]: c for c in option.get("slo_checks", [])}
    ttft = checks.get("ttft_p90_ms", {}).get("predicted")
    return (
        f"{short(option['model_id'])} on {option['gpus_total']}× {option['gpu_id']} ({option['precision']}), "
        f"{usd(cost.get('monthly_usd', 0.0))}/month" + (f", TTFT p90 {ms(ttft)}" if ttft is not None else "")
    )


def find_option(result: RecommendationResult, rank: int) -> Option:
    for o in list(result.options) + list(result.viable):
        if o.rank == rank:
            return o
    ranks = [o.rank for o in result.options]
    raise ScenarioError(
        f"recommendation {result.recommendation_id} has no option ranked {rank}"
        + (f"; its options are ranked {ranks}" if ranks else " (it found no options)")
    )


# --- compare ---------------------------------------------------------------------------------------------


def column_of(name: str, option: dict[str, Any]) -> ScenarioColumn:
    checks = {c["metric"]: c for c in option.get("slo_checks", [])}
    return ScenarioColumn(
        name=name,
        model=short(option["model_id"]),
        gpus=f"{option['gpus_total']}× {option['gpu_id']}",
        monthly_usd=float(option["cost"]["monthly_usd"]),
        ttft_p90_ms=float(checks.get("ttft_p90_ms", {}).get("predicted", option["ttft_ms"]["p90"])),
        tpot_p90_ms=float(checks.get("tpot_p90_ms", {}).get("predicted", option["tpot_ms"]["p90"])),
        e2e_p95_ms=float(checks.get("e2e_p95_ms", {}).get("predicted", option["e2e_ms"]["p95"])),
        throughput_rps=round(float(option["requests_per_s_capacity"]) * int(option["max_replicas"]), 2),
        quality_index=float(option["quality"]["index"]),
        gpus_total=int(option["gpus_total"]),
        verdicts={c["metric"]: c["verdict"] for c in option.get("slo_checks", [])},
    )


def _quality_word(index: float) -> str:
    for label, threshold in sorted(THRESHOLDS.items(), key=lambda kv: -kv[1]):
        if index >= threshold:
            return label.replace("_", " ").title()
    return "Below standard"


def _mark(verdict: str | None) -> str:
    return {"meets": " ✓", "uncertain": " ?", "misses": " ✗"}.get(verdict or "", "")


def comparison(columns: list[ScenarioColumn]) -> Comparison:
    """Side by side, with each later scenario's difference from the first."""
    base = columns[0]
    deltas: list[dict[str, Any]] = []
    for col in columns[1:]:
        deltas.append(
            {
                "scenario": col.name,
                "monthly_usd": round(col.monthly_usd - base.monthly_usd, 2),
                "ttft_p90_ms": round(col.ttft_p90_ms - base.ttft_p90_ms, 2),
                "tpot_p90_ms": round(col.tpot_p90_ms - base.tpot_p90_ms, 2),
                "e2e_p95_ms": round(col.e2e_p95_ms - base.e2e_p95_ms, 2),
                "throughput_rps": round(col.throughput_rps - base.throughput_rps, 2),
                "quality_index": round(col.quality_index - base.quality_index, 1),
                "gpus_total": col.gpus_total - base.gpus_total,
            }
        )

    def diff(key: str, fmt: Any) -> str:
        if len(columns) != 2:
            return ""
        d = deltas[0][key]
        if key == "quality_index":
            return "Better" if d >= 1 else "Worse" if d <= -1 else "Same"
        return fmt(d)

    def money(d: float) -> str:
        return f"{'+' if d >= 0 else '-'}${abs(d):,.0f}/month"

    def msd(d: float) -> str:
        return f"{d:+.0f}ms" if abs(d) >= 1 else f"{d:+.1f}ms"

    rows = [["", *[c.name for c in columns], "Difference" if len(columns) == 2 else ""]]
    rows.append(["Model", *[c.model for c in columns], ""])
    rows.append(["GPUs", *[c.gpus for c in columns], diff("gpus_total", lambda d: f"{d:+d} GPUs")])
    rows.append(["Cost", *[f"{usd(c.monthly_usd)}/month" for c in columns], diff("monthly_usd", money)])
    rows.append(
        [
            "TTFT p90",
            *[f"{ms(c.ttft_p90_ms)}{_mark(c.verdicts.get('ttft_p90_ms'))}" for c in columns],
            diff("ttft_p90_ms", msd),
        ]
    )
    rows.append(
        [
            "TPOT p90",
            *[f"{ms(c.tpot_p90_ms)}{_mark(c.verdicts.get('tpot_p90_ms'))}" for c in columns],
            diff("tpot_p90_ms", msd),
        ]
    )
    rows.append(
        [
            "E2E p95",
            *[f"{ms(c.e2e_p95_ms)}{_mark(c.verdicts.get('e2e_p95_ms'))}" for c in columns],
            diff("e2e_p95_ms", msd),
        ]
    )
    rows.append(
        [
            "Quality",
            *[f"{_quality_word(c.quality_index)} ({c.quality_index:.0f})" for c in columns],
            diff("quality_index", str),
        ]
    )
    rows.append(
        [
            "Throughput",
            *[f"{c.throughput_rps:g} rps" for c in columns],
            diff("throughput_rps", lambda d: f"{d:+g} rps"),
        ]
    )
    if len(columns) > 2:
        for row in rows:
            row.pop()
    return Comparison(columns=columns, deltas=deltas, rows=rows)


def format_comparison(table: Comparison) -> str:
    widths = [max(len(r[i]) for r in table.rows) for i in range(len(table.rows[0]))]
    lines = []
    for n, row in enumerate(table.rows):
        lines.append(" │ ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("─┼─".join("─" * w for w in widths))
    return "\n".join(lines)


# --- re-plan and tighten -----------------------------------------------------------------------------------

# Friendly names for the fields people change most.
ALIASES = {
    "model": "preferred_models",
    "gpu": "available_gpus",
    "qps": "expected_qps",
    "peak": "peak_qps",
    "ttft": "target_ttft_p90_ms",
    "tpot": "target_tpot_p90_ms",
    "e2e": "target_e2e_latency_p95_ms",
    "budget": "max_monthly_cost_usd",
    "prompt": "prompt_length_avg",
    "output": "generation_length_avg",
}


def apply_changes(spec: Specification, changes: dict[str, Any]) -> Specification:
    mapped: dict[str, Any] = {}
    for key, value in changes.items():
        field = ALIASES.get(key, key)
        if field in ("preferred_models", "available_gpus", "excluded_gpus") and isinstance(value, str):
            value = [value]
        mapped[field] = value
    try:
        return spec.edit(**mapped)
    except ValueError as e:
        raise ScenarioError(f"cannot apply {sorted(changes)}: {describe(e)}") from e


def _label(o: Option) -> str:
    return f"{short(o.model_id)} on {o.gpus_total}× {o.gpu_id} ({o.precision})"


def tighten_report(
    before: RecommendationResult, after: RecommendationResult, ttft_p90_ms: float
) -> TightenReport:
    """Which configurations of ``before`` stay viable in ``after``, re-planned at a tighter TTFT p90."""
    old = {(o.model_id, o.gpu_id): o for o in list(before.options) + list(before.viable)}
    new = {(o.model_id, o.gpu_id): o for o in list(after.options) + list(after.viable)}
    reasons = {(r.model_id, r.gpu_id): r.reason for r in after.rejected}
    stays, drops, fresh, lines = [], [], [], []
    for key, o in old.items():
        if key in new:
            n = new[key]
            change = f" (now {n.replicas} replicas, was {o.replicas})" if n.replicas != o.replicas else ""
            ttft = next((c.predicted for c in n.slo_checks if c.metric == "ttft_p90_ms"), n.ttft_ms.p90)
            stays.append(_label(n))
            lines.append(f"stays viable: {_label(n)}, TTFT p90 {ms(ttft)}{change}")
        else:
            drops.append(_label(o))
            why = reasons.get(key, "not among the viable configurations at the new target")
            lines.append(f"drops out: {_label(o)}: {why}")
    for key, n in new.items():
        if key not in old:
            fresh.append(_label(n))
    summary = (
        f"At TTFT p90 ≤ {ms(ttft_p90_ms)}: {len(stays)} of {len(old)} configurations stay viable, "
        f"{len(drops)} drop out"
        + (f"; nothing meets the new target ({after.message})" if not after.options else "")
        + "."
    )
    return TightenReport(
        ttft_p90_ms=ttft_p90_ms,
        recommendation_id=after.recommendation_id,
        stays=stays,
        drops=drops,
        new=fresh,
        summary=summary,
        lines=lines,
    )


# --- text rendering for the CLI ---------------------------------------------------------------------------


def format_result(result: RecommendationResult) -> str:
    out = []
    if result.recommendation_id:
        out.append(f"Recommendation {result.recommendation_id}")
    out.append("Load:")
    out.extend(f"  {line}" for line in result.traffic.explanation)
    reading = traffic_reading_line(result)
    if reading:
        out.append(f"  {reading}")
    if result.message:
        out.append(result.message)
    for o in result.options:
        checks = {c.metric: c for c in o.slo_checks}
        marks = ", ".join(
            f"{k.split('_')[0].upper()} {ms(c.predicted)}{_mark(c.verdict)}"
            for k, c in checks.items()
            if k != "throughput_rps"
        )
        out.append(
            f"\n#{o.rank} {_label(o)}: {usd(o.cost.monthly_usd)}/month; {marks}; "
            + (
                "quality unknown"
                if o.quality.basis == "unknown"
                else f"quality {o.quality.index:.0f}" + (f" for {o.quality.task}" if o.quality.task else "")
            )
        )
        if o.quality.below_reference:
            out.append(f"   {o.quality.below_reference}")
        if o.checkpoint is not None:
            flag = f" with --quantization {o.checkpoint.quantization}" if o.checkpoint.quantization else ""
            out.append(f"   weights: {o.checkpoint.repo}{flag} ({o.checkpoint.how})")
        out.append(f"   {o.rationale}")
        out.extend(f"   {line}" for line in option_work_lines(o))
        if o.cost.deployment_model != "cloud_rental":
            out.extend(f"   cost: {n}" for n in o.cost.notes)
            if o.rank == 1 and o.cost.assumptions:
                out.append("   assumptions: " + "; ".join(o.cost.assumptions))
    if result.pareto:
        out.append(f"\nPareto front (cost / latency / quality): ranks {', '.join(map(str, result.pareto))}")
    if result.relax:
        out.append("\nWhat to relax:")
        for r in result.relax:
            out.append(f"  {r.field}: {r.current} -> {r.suggested} ({r.effect})")
    if result.nearest_misses:
        out.append("\nNearest misses:")
        out.extend(f"  {r.reason}" for r in result.nearest_misses)
    if result.rejected:
        out.append("\nNotable rejections:")
        out.extend(f"  {line}" for line in rejection_lines(result.rejected))
    return "\n".join(out)
