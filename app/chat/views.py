"""Markdown views of the specification, the options, the rejected candidates and scenario comparisons.

Pure functions from typed objects to strings: no Chainlit, no I/O, so they are unit-tested directly and
shared by live rendering and by thread resume.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.chat.store import SavedScenario
from app.intent.schema import Specification
from app.planning.result import Option, RecommendationResult, SloCheck

ORIGIN_BADGE = {"stated": "🗣 you said", "template": "📋 default", "edited": "✏️ edited"}
VERDICT_MARK = {"meets": "✓", "misses": "✗", "uncertain": "≈ uncertain"}

# (field, label, formatter) in the order of the seed design's specification card.
Fmt = Callable[[Any], str]


def _int(v: Any) -> str:
    return f"{int(v):,}"


def _ms(v: Any) -> str:
    return f"{float(v):,.0f} ms"


def _usd(v: Any) -> str:
    return f"${float(v):,.0f}"


def _tok(v: Any) -> str:
    return f"{int(v):,} tokens"


def _qps(v: Any) -> str:
    return f"{float(v):,.2f} req/s"


def _text(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) if v else "any"
    return str(v).replace("_", " ")


SPEC_SECTIONS: list[tuple[str, list[tuple[str, str, Fmt]]]] = [
    (
        "Use case",
        [
            ("task_type", "Use case", _text),
            ("subject_matter", "Subject matter", _text),
            ("priority", "Priority", _text),
        ],
    ),
    (
        "Traffic",
        [
            ("total_users", "Users (total)", _int),
            ("daily_users", "Daily users", _int),
            ("concurrent_users", "Users at once", _int),
            ("batch_items", "Batch items per run", _int),
            ("batch_window_hours", "Batch window", lambda v: f"{float(v):g} h"),
            ("batch_runs_per_month", "Batch runs", lambda v: f"{float(v):g} a month"),
            ("price_class", "Price class", _text),
            ("expected_qps", "Steady load", _qps),
            ("peak_qps", "Peak load", _qps),
            ("prompt_length_avg", "Avg prompt", _tok),
            ("generation_length_avg", "Avg response", _tok),
            ("burstiness_pattern", "Burstiness", _text),
        ],
    ),
    (
        "SLO targets",
        [
            ("target_ttft_p90_ms", "TTFT p90", _ms),
            ("target_tpot_p90_ms", "TPOT p90", _ms),
            ("target_e2e_latency_p95_ms", "E2E p95", _ms),
            ("target_throughput_rps", "Throughput", _qps),
            ("quality_threshold", "Quality", _text),
            ("reliability_target", "Reliability", lambda v: f"{float(v):g}%"),
        ],
    ),
    (
        "Constraints and costs",
        [
            ("max_monthly_cost_usd", "Max monthly cost", _usd),
            ("max_hourly_cost_usd", "Max hourly cost", lambda v: f"${float(v):,.2f}"),
            ("available_gpus", "GPUs allowed", _text),
            ("excluded_gpus", "GPUs excluded", _text),
            ("max_gpus", "Max GPUs", _int),
            ("preferred_models", "Preferred models", _text),
            ("cloud_provider", "Provider", _text),
            ("region", "Region", _text),
            ("deployment_model", "Deployment model", _text),
            ("power_cost_per_kwh", "Power price", lambda v: f"${float(v):.3f}/kWh"),
        ],
    ),
]


_TEMPLATE_PREFIX = re.compile(r"^from the '[^']*' template:?\s*")


def _short_note(spec: Specification, name: str) -> str:
    """The part of a field's note the Source column does not already say."""
    if name in {"expected_qps", "peak_qps"} and spec.qps_derivation is not None:
        return ""  # the derivation is shown in full under the table
    note = _TEMPLATE_PREFIX.sub("", spec.notes.get(name, "")).strip()
    return note.replace("|", "/")


def spec_card(spec: Specification, *, title: str = "Deployment specification") -> str:
    """The specification as a table; every value says whether it was stated, a default, or edited."""
    lines = [f"### {title}"]
    if spec.template_id:
        lines.append(f"Defaults from the **{spec.template_id.replace('_', ' ')}** template.")
    lines += ["", "| | Field | Value | Source |", "|---|---|---|---|"]
    for section, fields in SPEC_SECTIONS:
        first = True
        for name, label, fmt in fields:
            value = getattr(spec, name)
            if (value is None or value == []) and name != "available_gpus":
                continue
            origin = spec.origins.get(name)
            badge = ORIGIN_BADGE.get(origin, "") if origin else "—"
            note = _short_note(spec, name)
            shown = fmt(value) + (f" · *{note}*" if note else "")
            lines.append(f"| {'**' + section + '**' if first else ''} | {label} | {shown} | {badge} |")
            first = False
    if spec.qps_derivation is not None:
        lines += ["", f"*Why this load:* {spec.qps_derivation.explanation}"]
    lines += [
        "",
        "Change any value with the ⚙️ settings button next to the message box, or just say it: "
        "*“tighten TTFT to 150 ms”*, *“what if we use L40S?”*, *“double the users”*.",
    ]
    return "\n".join(lines)


def _check_line(label: str, check: SloCheck | None, predicted: float, unit: str = "ms") -> str:
    if check is None:
        return f"{label} {predicted:,.0f} {unit}"
    interval = ""
    if check.interval is not None:
        interval = f" (80%: {check.interval[0]:,.0f}–{check.interval[1]:,.0f})"
    mark = VERDICT_MARK[check.verdict]
    return f"{label} **{check.predicted:,.0f} {unit}**{interval} {mark} target {check.target:,.0f}"


def _checks(option: Option) -> dict[str, SloCheck]:
    return {c.metric: c for c in option.slo_checks}


def gpu_label(option: Option) -> str:
    per_replica = f"{option.tp}× {option.gpu_id}" if option.tp > 1 else f"1× {option.gpu_id}"
    return f"{per_replica} × {option.replicas} replica{'s' if option.replicas != 1 else ''}"


def option_card(option: Option, *, on_pareto: bool = False) -> str:
    checks = _checks(option)
    cost = option.cost
    head = f"#### Option {option.rank}: {option.model_id} on {gpu_label(option)}"
    if on_pareto:
        head += " ⭐"
    lines = [
        head,
        f"**{_usd(cost.monthly_usd)}/month** (${cost.hourly_usd:,.2f}/h"
        + (f", ${cost.per_1k_tokens_usd:.4f} per 1k tokens" if cost.per_1k_tokens_usd is not None else "")
        + (f"; {cost.provider}" if cost.provider else "")
        + ")"
        + (f" · up to {_usd(cost.monthly_usd_at_peak)}/month at peak" if cost.monthly_usd_at_peak else ""),
        "",
        f"- GPUs: {option.gpus_total} × {option.gpu_id} (TP {option.tp}, {option.replicas} replicas, "
        f"autoscale {option.min_replicas}–{option.max_replicas}, {option.headroom}); {option.precision}, "
        f"{option.engine}",
        "- " + _check_line("TTFT p90", checks.get("ttft_p90_ms"), option.ttft_ms.p90),
        "- " + _check_line("TPOT p90", checks.get("tpot_p90_ms"), option.tpot_ms.p90),
        "- " + _check_line("E2E p95", checks.get("e2e_p95_ms"), option.e2e_ms.p95),
        "- Quality: "
        + (
            f"unknown ({option.quality.detail})"
            if option.quality.basis == "unknown"
            else f"{option.quality.index:.0f}/100 ({option.quality.basis}; {option.quality.detail})"
        )
        + (f" — **{option.quality.below_reference}**" if option.quality.below_reference else ""),
        f"- Basis: **{option.basis}**; capacity {option.requests_per_s_capacity:,.1f} req/s per replica",
    ]
    for note in cost.notes:
        lines.append(f"- Note: {note}")
    if option.similar_outcomes:
        lines.append(f"- Past deployments: {option.similar_outcomes}")
    lines += ["", option.rationale]
    return "\n".join(lines)


def options_header(result: RecommendationResult) -> str:
    t = result.traffic
    lines = [
        f"### {len(result.options)} recommended option{'s' if len(result.options) != 1 else ''}",
        f"Sized for **{t.steady_qps:,.2f} req/s steady, {t.peak_qps:,.2f} req/s peak** "
        f"({t.prompt_tokens_avg:,} prompt / {t.output_tokens_avg:,} output tokens, {t.arrival} arrivals).",
    ]
    lines += [f"- {x}" for x in t.explanation]
    if result.message:
        lines.append(f"**{result.message}**")
    return "\n".join(lines)


def nothing_fits(result: RecommendationResult) -> str:
    lines = ["### Nothing meets these constraints", result.message or ""]
    if result.relax:
        lines += ["", "What to loosen:"]
        lines += [f"- **{r.field}**: {r.current} → {r.suggested} — {r.effect}" for r in result.relax]
    return "\n".join(lines)


def why_not(result: RecommendationResult, limit: int = 8) -> str:
    if not result.rejected:
        return ""
    lines = ["### Why not these?"]
    for r in result.rejected[:limit]:
        where = f" on {r.gpu_id}" if r.gpu_id else ""
        tp = f" (TP {r.tp})" if r.tp else ""
        lines.append(f"- **{r.model_id}{where}{tp}**: {r.reason}")
    return "\n".join(lines)


def _delta(a: float | None, b: float | None, unit: str, money: bool = False) -> str:
    if a is None or b is None:
        return ""
    d = b - a
    if abs(d) < 1e-9:
        return "same"
    sign = "+" if d > 0 else "−"
    if money:
        return f"{sign}${abs(d):,.0f}/month"
    return f"{sign}{abs(d):,.0f}{unit}"


def _cell(option: Option | None, metric: str) -> tuple[str, float | None]:
    if option is None:
        return "—", None
    check = _checks(option).get(metric)
    value = {
        "ttft_p90_ms": option.ttft_ms.p90,
        "tpot_p90_ms": option.tpot_ms.p90,
        "e2e_p95_ms": option.e2e_ms.p95,
    }[metric]
    mark = f" {VERDICT_MARK[check.verdict]}" if check else ""
    return f"{value:,.0f} ms{mark}", value


def compare_table(a: SavedScenario, b: SavedScenario) -> str:
    """Two scenarios side by side with the differences (B − A), as in the seed design."""
    oa, ob = a.option, b.option
    rows: list[tuple[str, str, str, str]] = []
    rows.append(("Model", oa.model_id if oa else "—", ob.model_id if ob else "—", ""))
    rows.append(
        (
            "GPUs",
            gpu_label(oa) if oa else "—",
            gpu_label(ob) if ob else "—",
            _delta(oa.gpus_total if oa else None, ob.gpus_total if ob else None, " GPUs"),
        )
    )
    ca = oa.cost.monthly_usd if oa else None
    cb = ob.cost.monthly_usd if ob else None
    rows.append(
        (
            "Monthly cost",
            _usd(ca) + "/month" if ca is not None else "—",
            _usd(cb) + "/month" if cb is not None else "—",
            _delta(ca, cb, "", money=True),
        )
    )
    for metric, label in (
        ("ttft_p90_ms", "TTFT p90"),
        ("tpot_p90_ms", "TPOT p90"),
        ("e2e_p95_ms", "E2E p95"),
    ):
        sa, va = _cell(oa, metric)
        sb, vb = _cell(ob, metric)
        rows.append((label, sa, sb, _delta(va, vb, " ms")))
    qa = oa.quality.index if oa else None
    qb = ob.quality.index if ob else None
    better = "" if qa is None or qb is None else ("better" if qb > qa else "worse" if qb < qa else "same")
    rows.append(
        (
            "Quality",
            f"{qa:.0f}/100" if qa is not None else "—",
            f"{qb:.0f}/100" if qb is not None else "—",
            better,
        )
    )
    ta = oa.requests_per_s_capacity * oa.replicas if oa else None
    tb = ob.requests_per_s_capacity * ob.replicas if ob else None
    rows.append(
        (
            "Capacity",
            f"{ta:,.1f} req/s" if ta is not None else "—",
            f"{tb:,.1f} req/s" if tb is not None else "—",
            _delta(ta, tb, " req/s"),
        )
    )
    sa_spec, sb_spec = a.specification, b.specification
    for key, label, unit in (
        ("target_ttft_p90_ms", "TTFT target", " ms"),
        ("total_users", "Users", ""),
        ("daily_users", "Daily users", ""),
        ("concurrent_users", "Users at once", ""),
        ("expected_qps", "Steady load", " req/s"),
    ):
        va2, vb2 = sa_spec.get(key), sb_spec.get(key)
        if va2 != vb2:
            rows.append(
                (
                    label,
                    f"{va2:,}{unit}" if va2 is not None else "—",
                    f"{vb2:,}{unit}" if vb2 is not None else "—",
                    _delta(va2, vb2, unit)
                    if isinstance(va2, int | float) and isinstance(vb2, int | float)
                    else "",
                )
            )
    lines = [
        f"### Comparison: {a.name} vs {b.name}",
        "",
        f"| | {a.name} (A) | {b.name} (B) | Difference (B − A) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
    return "\n".join(lines)


def scenario_list(scenarios: list[SavedScenario]) -> str:
    if not scenarios:
        return "No saved scenarios yet. Use **Save as scenario** under an option."
    lines = ["### Saved scenarios"]
    for s in scenarios:
        o = s.option
        summary = f"{o.model_id} on {gpu_label(o)}, {_usd(o.cost.monthly_usd)}/month" if o else "no option"
        lines.append(f"- **{s.name}**: {summary}")
    return "\n".join(lines)
