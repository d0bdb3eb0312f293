"""Markdown views of the specification, the options, what-if changes, rejected candidates and comparisons.

Pure functions from typed objects to strings: no Chainlit, no I/O, so they are unit-tested directly and
shared by live rendering and by thread resume. Wording and number formats come from :mod:`app.chat.labels`.

Layout rules (a person should read a stage at a glance, on a laptop or a phone):
- the specification is a compact two-column card; each value carries a one-character source marker;
- the options are ONE table; each row opens its details and rationale underneath (a custom element,
  ``public/elements/OptionsTable.jsx``: Chainlit's side elements open all at once, stacked);
- a what-if answers with the change of the top option, not with the whole plan again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.chat.labels import (
    METRIC_LABELS,
    field_label,
    format_value,
    ms,
    qps,
    short_model,
    sig,
    usd,
)
from app.intent.schema import Specification
from app.planning.explain import option_work_lines, rejection_lines, traffic_reading_line
from app.planning.result import Option, RecommendationResult, SloCheck
from app.planning.traffic import LOAD_FIELDS
from app.services.scenario_views import SavedScenario

# Plain symbols that every system font draws (emoji fall back to empty boxes on many Linux desktops).
ORIGIN_MARK = {"stated": "●", "template": "○", "edited": "✎"}
ORIGIN_LEGEND = "● you said · ○ default for this use case · ✎ edited"
VERDICT_MARK = {"meets": "✓", "misses": "✗", "uncertain": "≈"}
VERDICT_LEGEND = "✓ meets the target · ✗ misses it · ≈ the target is inside the prediction's 80% range"
TABLE_METRICS = ("ttft_p90_ms", "tpot_p90_ms", "e2e_p95_ms")

# The two columns of the specification card: what is asked of the deployment, and its limits.
WORKLOAD_FIELDS = (
    "task_type",
    "subject_matter",
    "priority",
    "concurrent_users",
    "daily_users",
    "total_users",
    "load",
    "tokens",
    "burstiness_pattern",
    "batch_items",
    "batch_window_hours",
    "batch_runs_per_month",
)
LIMIT_FIELDS = (
    "target_ttft_p90_ms",
    "target_tpot_p90_ms",
    "target_e2e_latency_p95_ms",
    "target_throughput_rps",
    "quality_threshold",
    "reliability_target",
    "max_monthly_cost_usd",
    "max_hourly_cost_usd",
    "deployment_model",
    "gpu_inventory",
    "available_gpus",
    "excluded_gpus",
    "max_gpus",
    "preferred_models",
    "cloud_provider",
    "region",
    "price_class",
    "power_cost_per_kwh",
)
# Shown even when empty, because "none"/"any" is itself an answer a person checks.
ALWAYS_SHOWN = frozenset({"max_monthly_cost_usd", "available_gpus"})
# Metric of an option -> the Specification field holding its target.
TARGET_FIELDS = {
    "ttft_p90_ms": "target_ttft_p90_ms",
    "tpot_p90_ms": "target_tpot_p90_ms",
    "e2e_p95_ms": "target_e2e_latency_p95_ms",
}


# --- the specification ---------------------------------------------------------------------------------


def _mark(spec: Specification, *names: str) -> str:
    origins = [spec.origins.get(n) for n in names if spec.origins.get(n)]
    if not origins:
        return ""
    # The most personal source wins: an edit over a statement over a default.
    for origin in ("edited", "stated", "template"):
        if origin in origins:
            return " " + ORIGIN_MARK[origin]
    return ""


def _spec_cell(spec: Specification, name: str) -> tuple[str, str] | None:
    """(label, value with source marker) of one card entry, or None when there is nothing to show."""
    if name == "load":
        return "Load", f"{qps(spec.expected_qps)} steady, {qps(spec.peak_qps)} peak" + _mark(
            spec, "expected_qps", "peak_qps"
        )
    if name == "tokens":
        return "Prompt / response", (
            f"{spec.prompt_length_avg:,} / {spec.generation_length_avg:,} tokens"
            + _mark(spec, "prompt_length_avg", "generation_length_avg")
        )
    if not hasattr(spec, name):
        return None  # a field another version of the schema has; nothing to show
    value = getattr(spec, name)
    if (value is None or value == []) and name not in ALWAYS_SHOWN:
        return None
    if name == "max_monthly_cost_usd" and value is None:
        return field_label(name), "no limit"
    if name == "available_gpus" and not value:
        owned = bool(getattr(spec, "gpu_inventory", None))
        return field_label(name), ("only those owned" if owned else "any")
    return field_label(name), format_value(name, value) + _mark(spec, name)


def spec_card(
    spec: Specification, *, title: str = "Deployment specification", unused_numbers: Sequence[float] = ()
) -> str:
    """The specification as a compact two-column card; every value is marked stated, default or edited.
    Numbers in the description that no field took are listed, so none is dropped silently."""
    left = [c for c in (_spec_cell(spec, n) for n in WORKLOAD_FIELDS) if c]
    right = [c for c in (_spec_cell(spec, n) for n in LIMIT_FIELDS) if c]
    rows = max(len(left), len(right))
    left += [("", "")] * (rows - len(left))
    right += [("", "")] * (rows - len(right))
    lines = [f"### {title}", "", "| Workload | | Targets and limits | |", "|---|---|---|---|"]
    for (ll, lv), (rl, rv) in zip(left, right, strict=True):
        lines.append(f"| {ll} | {lv} | {rl} | {rv} |")
    lines += ["", f"*{ORIGIN_LEGEND}*"]
    if spec.qps_derivation is not None:
        assumed = not any(spec.origins.get(f) in ("stated", "edited") for f in LOAD_FIELDS)
        label = "Traffic reading, assumed (not stated)" if assumed else "Traffic reading"
        lines += ["", f"**{label}:** {spec.qps_derivation.explanation}"]
    if unused_numbers:
        shown = ", ".join(f"{n:,g}" for n in unused_numbers)
        lines += [
            "",
            f"**Numbers not used:** {shown}. If one of them matters, say what it is, or edit it with ⚙.",
        ]
    lines += [
        "",
        "Change a value with ⚙ next to the message box, or say it: *“tighten TTFT to 150 ms”*, "
        "*“what if we use L40S?”*, *“double the users”*.",
    ]
    return "\n".join(lines)


# --- plausibility ----------------------------------------------------------------------------------------


# Values inside the schema's bounds that no real deployment sees; each with what it implies.
def plausibility_flags(spec: Specification) -> list[str]:
    """Kept-but-surprising values, each with what it implies (the person confirms them before planning)."""
    flags = []
    if spec.target_ttft_p90_ms < 20:
        flags.append(
            f"**{field_label('target_ttft_p90_ms')} {ms(spec.target_ttft_p90_ms)}**: even a short prompt's "
            "prefill plus one decode step takes longer than 20 ms on any GPU, so every option will miss it."
        )
    if spec.target_tpot_p90_ms < 3:
        flags.append(
            f"**{field_label('target_tpot_p90_ms')} {ms(spec.target_tpot_p90_ms)}**: a decode step reads all "
            "the weights from GPU memory; under 3 ms per token only the smallest models can do that."
        )
    users = max(
        (getattr(spec, n, None) or 0 for n in ("concurrent_users", "daily_users", "total_users")), default=0
    )
    if users > 10_000_000:
        flags.append(
            f"**{users:,} users**: that is a large consumer service; it implies "
            f"{qps(spec.expected_qps)} steady and {qps(spec.peak_qps)} at peak, which takes many GPUs."
        )
    elif spec.peak_qps > 10_000:
        flags.append(f"**{qps(spec.peak_qps)} at peak**: that load takes a very large fleet of GPUs.")
    return flags


# --- the options -----------------------------------------------------------------------------------------


def _checks(option: Option) -> dict[str, SloCheck]:
    return {c.metric: c for c in option.slo_checks}


def metric_value(option: Option, metric: str) -> float:
    """The one predicted value of ``metric`` shown everywhere (the SLO check's, else the percentile's)."""
    check = _checks(option).get(metric)
    if check is not None:
        return check.predicted
    return {
        "ttft_p90_ms": option.ttft_ms.p90,
        "tpot_p90_ms": option.tpot_ms.p90,
        "e2e_p95_ms": option.e2e_ms.p95,
    }[metric]


def gpu_label(option: Option) -> str:
    """ "4× H100-SXM-80GB (2 replicas of TP 2)"; one GPU per replica reads "3× L40S-48GB"."""
    label = f"{option.gpus_total}× {option.gpu_id}"
    if option.tp > 1:
        label += f" ({option.replicas} × TP {option.tp})"
    return label


def peak_utilisation(option: Option, result: RecommendationResult) -> float | None:
    """Share of the option's capacity used at peak load (the recommender's figure when it has one)."""
    if option.utilization_at_peak is not None:
        return option.utilization_at_peak
    capacity = option.requests_per_s_capacity * option.replicas
    return result.traffic.peak_qps / capacity if capacity > 0 else None


def _latency_cell(option: Option, metric: str, *, unit: bool = True) -> str:
    check = _checks(option).get(metric)
    mark = f" {VERDICT_MARK[check.verdict]}" if check else ""
    value = ms(metric_value(option, metric))
    return (value if unit else value.removesuffix(" ms")) + mark


def quality_cell(option: Option) -> str:
    """The quality index, or "unknown" when no comparable published scores exist (never a size guess)."""
    return "unknown" if option.quality.basis == "unknown" else f"{option.quality.index:.0f}"


def _cost_cell(option: Option) -> str:
    cost = option.cost
    if cost.deployment_model == "owned_hardware":
        return f"{usd(cost.monthly_usd)} power" if cost.monthly_usd > 0 else "owned"
    return usd(cost.monthly_usd)


def targets_line(spec: dict[str, Any]) -> str:
    parts = []
    for metric in TABLE_METRICS:
        target = spec.get(TARGET_FIELDS[metric])
        if target is not None:
            parts.append(f"{METRIC_LABELS[metric]} ≤ {ms(float(target))}")
    budget = spec.get("max_monthly_cost_usd")
    if budget:
        parts.append(f"budget {usd(float(budget))}/month")
    return " · ".join(parts)


OPTION_COLUMNS = [
    "#",
    "Model",
    "GPUs",
    "$/month",
    "TTFT p90",
    "TPOT p90",
    "E2E p95",
    "Quality",
    "Use",
]


def options_summary(result: RecommendationResult, *, title: str | None = None) -> str:
    """What the options table is sized for and checked against, and how to read it."""
    t = result.traffic
    n = len(result.options)
    heading = title or f"{n} recommended option{'s' if n != 1 else ''}"
    lines = [
        f"### {heading}",
        f"Sized for **{qps(t.steady_qps)} steady, {qps(t.peak_qps)} peak** "
        f"({t.prompt_tokens_avg:,} prompt / {t.output_tokens_avg:,} response tokens). "
        f"Targets: {targets_line(result.specification)}.",
    ]
    reading = traffic_reading_line(result)
    if reading:
        lines.append(reading)
    if result.message:
        lines += ["", f"**{_sentence(result.message)}**"]
    return "\n".join(lines)


# Shown under the table (inside the element), so on a phone the table comes before the reading notes.
TABLE_LEGEND = (
    f"Click a row for its details. Latencies in ms. {VERDICT_LEGEND} · ★ best trade-off of cost and "
    "latency · Use: share of the capacity busy at peak"
)


def option_row(option: Option, result: RecommendationResult) -> dict[str, Any]:
    """One row of the options table (the OptionsTable element): the cells, and the details under it."""
    use = peak_utilisation(option, result)
    return {
        "rank": option.rank,
        "star": option.rank in result.pareto,
        "model": short_model(option.model_id),
        "gpus": gpu_label(option),
        "numbers": [
            _cost_cell(option),
            *(_latency_cell(option, m, unit=False) for m in TABLE_METRICS),
            quality_cell(option),
            "—" if use is None else f"{use:.0%}",
        ],
        "details": option_details(option),
    }


def options_table_props(result: RecommendationResult) -> dict[str, Any]:
    """Props of the OptionsTable element (public/elements/OptionsTable.jsx)."""
    return {
        "recommendation_id": result.recommendation_id,
        "columns": OPTION_COLUMNS,
        "legend": TABLE_LEGEND,
        "rows": [option_row(o, result) for o in result.options],
    }


def options_table(result: RecommendationResult) -> str:
    """The same table as markdown, for text-only readers (the CLI, logs, the websocket benchmark)."""
    lines = ["| " + " | ".join(OPTION_COLUMNS) + " |", "|" + "---|" * len(OPTION_COLUMNS)]
    for o in result.options:
        row = option_row(o, result)
        star = " ★" if row["star"] else ""
        cells = [f"Option {o.rank}{star}", row["model"], row["gpus"], *row["numbers"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _check_line(option: Option, metric: str) -> str:
    check = _checks(option).get(metric)
    value = metric_value(option, metric)
    label = METRIC_LABELS[metric]
    if check is None:
        return f"{label} {ms(value)}"
    interval = ""
    if check.interval is not None:
        interval = f" (80% range {ms(check.interval[0])}–{ms(check.interval[1])})"
    return f"{label} **{ms(value)}**{interval} {VERDICT_MARK[check.verdict]} target {ms(check.target)}"


def option_details(option: Option) -> str:
    """Everything about one option: hardware, cost lines, each latency against its target, why."""
    cost = option.cost
    price = f"{usd(cost.monthly_usd)}/month ({usd(cost.hourly_usd)}/hour"
    if cost.per_1k_tokens_usd is not None:
        price += f", ${cost.per_1k_tokens_usd:.4f} per 1k tokens"
    price += ")"
    if cost.monthly_usd_at_peak and cost.monthly_usd_at_peak > cost.monthly_usd:
        price += f"; up to {usd(cost.monthly_usd_at_peak)}/month if the peak replica count ran all month"
    lines = [
        f"**Option {option.rank}: {option.model_id} on {gpu_label(option)}**",
        "",
        f"- Cost: {price}" + (f"; prices from {cost.provider}" if cost.provider else ""),
        f"- Hardware: {option.replicas} replica{'s' if option.replicas != 1 else ''} of {option.tp}× "
        f"{option.gpu_id} (autoscaling {option.min_replicas}–{option.max_replicas}, {option.headroom}); "
        f"{option.precision} on {option.engine}",
    ]
    lines += [f"- {_check_line(option, m)}" for m in TABLE_METRICS]
    lines += [
        "- Quality: "
        + (
            f"unknown ({option.quality.detail})"
            if option.quality.basis == "unknown"
            else f"{option.quality.index:.0f}/100 ({option.quality.basis}: {option.quality.detail})"
        )
        + (f" — **{option.quality.below_reference}**" if option.quality.below_reference else ""),
        f"- Numbers are **{option.basis}**; one replica sustains {sig(option.requests_per_s_capacity)} req/s",
    ]
    if cost.capex_usd:
        lines.append(f"- Purchase: {usd(cost.capex_usd)}")
    if cost.break_even_month:
        lines.append(f"- Buying beats renting after {cost.break_even_month:.0f} months")
    if cost.power_monthly_usd:
        lines.append(f"- Power: {usd(cost.power_monthly_usd)}/month")
    lines += [f"- {line[0].upper()}{line[1:]}" for line in option_work_lines(option)]
    lines += [f"- Note: {note}" for note in cost.notes]
    if option.similar_outcomes:
        lines.append(f"- Past deployments: {option.similar_outcomes}")
    lines += ["", option.rationale]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    text = text.replace("See `relax` for what to loosen.", "").strip()
    return text[:1].upper() + text[1:]


def nothing_fits(result: RecommendationResult) -> str:
    lines = ["### Nothing meets these constraints"]
    if result.message:
        # The heading already says it; keep the reasons.
        lines.append(_sentence(result.message.removeprefix("nothing meets these constraints: ")))
    if result.relax:
        lines += ["", "**What to loosen** (each line is one change on its own):", ""]
        for r in result.relax:
            lines.append(
                f"- **{field_label(r.field)}**: {format_value(r.field, r.current)} → "
                f"{format_value(r.field, r.suggested)}. {_sentence(r.effect)}."
            )
    return "\n".join(lines)


def why_not(result: RecommendationResult, limit: int = 8) -> str:
    if not result.rejected:
        return ""
    lines = ["**Why not these?**"]
    lines += [f"- {line}" for line in rejection_lines(result.rejected, limit)]
    return "\n".join(lines)


# --- what-ifs --------------------------------------------------------------------------------------------


def _top(result: RecommendationResult | None) -> Option | None:
    return result.options[0] if result and result.options else None


def whatif_change(before: RecommendationResult | None, after: RecommendationResult, edits: str) -> str:
    """The answer to a what-if: the edit, then how the top option moved ("$2,190 → $876/month, ...")."""
    head = f"**What changed:** {edits}."
    a, b = _top(before), _top(after)
    if b is None:
        return head + "\n\n**Nothing meets the new constraints** (see what to loosen below)."
    if a is None:
        return (
            head
            + f"\n\nNow **{short_model(b.model_id)} on {gpu_label(b)}** at {usd(b.cost.monthly_usd)}/month."
        )
    parts = [f"**{usd(a.cost.monthly_usd)} → {usd(b.cost.monthly_usd)}/month**"]
    for metric in ("ttft_p90_ms", "e2e_p95_ms"):
        va, vb = metric_value(a, metric), metric_value(b, metric)
        parts.append(f"{METRIC_LABELS[metric]} {ms(va).removesuffix(' ms')} → {ms(vb)}")
    if (a.model_id, a.gpu_id, a.gpus_total) == (b.model_id, b.gpu_id, b.gpus_total):
        parts.append("same model and GPUs")
    elif a.model_id == b.model_id:
        parts.append(f"same model, now on {gpu_label(b)} (was {gpu_label(a)})")
    else:
        parts.append(f"now {short_model(b.model_id)} on {gpu_label(b)} (was {short_model(a.model_id)})")
    return head + "\n\nTop option: " + ", ".join(parts) + "."


# --- scenarios -------------------------------------------------------------------------------------------


def _delta(a: float | None, b: float | None, unit: str, money: bool = False) -> str:
    if a is None or b is None:
        return ""
    d = b - a
    if abs(d) < 1e-9:
        return "same"
    sign = "+" if d > 0 else "−"
    if money:
        return f"{sign}{usd(abs(d))}/month"
    return f"{sign}{sig(abs(d))}{unit}" if abs(d) < 100 else f"{sign}{abs(d):,.0f}{unit}"


def compare_table(a: SavedScenario, b: SavedScenario) -> str:
    """Two scenarios side by side with the differences (second − first)."""
    oa, ob = a.option, b.option
    rows: list[tuple[str, str, str, str]] = [
        ("Model", short_model(oa.model_id) if oa else "—", short_model(ob.model_id) if ob else "—", "")
    ]
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
            f"{usd(ca)}/month" if ca is not None else "—",
            f"{usd(cb)}/month" if cb is not None else "—",
            _delta(ca, cb, "", money=True),
        )
    )
    for metric in TABLE_METRICS:
        va = metric_value(oa, metric) if oa else None
        vb = metric_value(ob, metric) if ob else None
        rows.append(
            (
                METRIC_LABELS[metric],
                _latency_cell(oa, metric) if oa else "—",
                _latency_cell(ob, metric) if ob else "—",
                _delta(va, vb, " ms"),
            )
        )
    qa = oa.quality.index if oa and oa.quality.basis != "unknown" else None
    qb = ob.quality.index if ob and ob.quality.basis != "unknown" else None
    better = "" if qa is None or qb is None else ("better" if qb > qa else "worse" if qb < qa else "same")
    rows.append(("Quality", quality_cell(oa) if oa else "—", quality_cell(ob) if ob else "—", better))
    ta = oa.requests_per_s_capacity * oa.replicas if oa else None
    tb = ob.requests_per_s_capacity * ob.replicas if ob else None
    rows.append(
        (
            "Capacity",
            qps(ta) if ta is not None else "—",
            qps(tb) if tb is not None else "—",
            _delta(ta, tb, " req/s"),
        )
    )
    for key in (
        "target_ttft_p90_ms",
        "total_users",
        "daily_users",
        "concurrent_users",
        "expected_qps",
        "max_monthly_cost_usd",
    ):
        va2, vb2 = a.specification.get(key), b.specification.get(key)
        if va2 != vb2:
            unit = " ms" if key.endswith("_ms") else " req/s" if key == "expected_qps" else ""
            numeric = isinstance(va2, int | float) and isinstance(vb2, int | float)
            rows.append(
                (
                    field_label(key),
                    format_value(key, va2),
                    format_value(key, vb2),
                    _delta(va2, vb2, unit, money=key.endswith("_usd")) if numeric else "",
                )
            )
    lines = [
        f"### Comparison: {a.name} vs {b.name}",
        "",
        f"| | {a.name} | {b.name} | Difference |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
    return "\n".join(lines)


def scenario_list(scenarios: list[SavedScenario]) -> str:
    if not scenarios:
        return "No saved scenarios yet. Use **Save** under the options table."
    lines = ["### Saved scenarios"]
    for s in scenarios:
        o = s.option
        summary = (
            f"{short_model(o.model_id)} on {gpu_label(o)}, {usd(o.cost.monthly_usd)}/month"
            if o
            else "no option"
        )
        lines.append(f"- **{s.name}**: {summary}")
    lines.append("")
    lines.append("Say *compare A with C* to compare two of them, or *compare* for the last two.")
    return "\n".join(lines)
