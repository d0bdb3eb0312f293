"""Words for a plan: rationales, notable rejections, nearest misses, relaxations, the Pareto front."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from app.planning.quality import THRESHOLDS
from app.planning.result import Option, RecommendationResult, Rejected, Relaxation, SloCheck
from app.planning.sizing import SLO_SAFETY_MARGIN

if TYPE_CHECKING:
    from app.planning.plan import Candidate, Planner, Violation

_LABELS = {
    "target_ttft_p90_ms": "TTFT p90",
    "target_tpot_p90_ms": "TPOT p90",
    "target_e2e_latency_p95_ms": "E2E p95",
    "max_monthly_cost_usd": "monthly budget",
    "max_hourly_cost_usd": "hourly budget",
    "quality_threshold": "quality threshold",
    "max_gpus": "GPU limit",
    "gpu_inventory": "GPU inventory",
    "cloud_provider": "price source",
    "preferred_models": "minimum model size for the task",
    "quality_reference_model": "named quality floor",
}


def ms(value: float) -> str:
    """'14 ms', '1.4 s': how a person reads a latency."""
    if not math.isfinite(value):
        return "unbounded"
    if value >= 1000:
        return f"{value / 1000:.3g} s" if value < 10000 else f"{value / 1000:.0f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.2g} ms"


def short(model_id: str) -> str:
    return model_id.split("/")[-1]


def usd(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def pareto_point(o: Option, latency: float) -> tuple[float, float, float, int]:
    """(cost, latency, −quality, rank) of an option: what the Pareto front compares."""
    cost = (
        float(o.gpus_total)
        if o.cost.deployment_model == "owned_hardware" and not o.cost.monthly_usd
        else (o.cost.monthly_usd)
    )
    return (cost, latency, -o.quality.index, o.rank)


def pareto_front(points: Sequence[tuple[float, float, float, int]]) -> list[int]:
    """Ranks of the points no other point beats on cost, latency and quality at once (lower is better on
    each), in input order. Vectorised over distinct points: large catalogs have thousands of viable ones."""
    if not points:
        return []
    values = np.array([p[:3] for p in points], dtype=float)
    distinct, inverse = np.unique(values, axis=0, return_inverse=True)
    dominated = np.zeros(len(distinct), dtype=bool)
    for start in range(0, len(distinct), 256):
        a = distinct[start : start + 256, None, :]
        b = distinct[None, :, :]
        beats = np.logical_and(np.all(b <= a, axis=2), np.any(b < a, axis=2))
        dominated[start : start + 256] = np.any(beats, axis=1)
    flags = dominated[np.asarray(inverse).reshape(-1)]
    return [p[3] for p, out in zip(points, flags.tolist(), strict=True) if not out]


def screened_checks(planner: Planner, c: Candidate) -> list[SloCheck]:
    t = planner.targets
    return [
        SloCheck(metric="ttft_p90_ms", target=t.ttft_p90_ms, predicted=round(c.ttft, 3), verdict="meets"),
        SloCheck(metric="tpot_p90_ms", target=t.tpot_p90_ms, predicted=round(c.tpot, 3), verdict="meets"),
        SloCheck(metric="e2e_p95_ms", target=t.e2e_p95_ms, predicted=round(c.e2e, 3), verdict="meets"),
    ]


def rationale(planner: Planner, c: Candidate, option: Option, ranked: Sequence[Candidate]) -> str:
    """One paragraph in plain words: what it is, what it costs, what it predicts, why it ranks here."""
    spec = planner.spec
    cfg = c.cfg
    parts: list[str] = []
    tp = f", tensor-parallel over {cfg.tp} GPUs" if cfg.tp > 1 else ""
    parts.append(
        f"{short(cfg.model_id)} ({cfg.precision}{tp}) on {option.gpus_total} × {cfg.gpu_id}: "
        f"{c.n_peak} replica{'s carry' if c.n_peak > 1 else ' carries'} "
        f"the peak of {planner.traffic.peak_qps:,.3g} QPS"
        + (f", plus {c.spare} spare ({c.headroom_text})" if c.spare else "")
        + f"; autoscale between {option.min_replicas} and {option.max_replicas}."
    )
    if option.utilization_at_peak is not None:
        room = (
            f"; the peak can grow {option.slo_headroom:.0%} before the SLOs (less their "
            f"{SLO_SAFETY_MARGIN:.0%} safety margin) break"
            if option.slo_headroom is not None
            else ""
        )
        parts.append(
            f"At peak the replicas run at {option.utilization_at_peak:.0%} of their saturation "
            f"throughput{room}."
        )
    cost = option.cost
    if cost.deployment_model == "owned_hardware":
        money = f"Runs on owned GPUs ({option.gpus_total} used)"
        money += f", power and cooling {usd(cost.monthly_usd)}/month." if cost.monthly_usd else "."
    elif cost.deployment_model == "purchase":
        money = (
            f"Buying costs {usd(cost.capex_usd or 0)} up front, {usd(cost.monthly_usd)}/month over "
            f"{spec.amortization_period_months} months"
        )
        money += (
            f", breaking even after {cost.break_even_month:g} months against renting."
            if cost.break_even_month
            else "."
        )
    else:
        money = f"{usd(cost.monthly_usd)}/month at {cost.provider}" + (
            f" ({usd(cost.per_1k_tokens_usd * 1000)} per million tokens)." if cost.per_1k_tokens_usd else "."
        )
    parts.append(money)
    checks: dict[str, SloCheck] = {s.metric: s for s in option.slo_checks}
    preds = []
    for metric, label in (
        ("ttft_p90_ms", "TTFT p90"),
        ("tpot_p90_ms", "TPOT p90"),
        ("e2e_p95_ms", "E2E p95"),
    ):
        s = checks.get(metric)
        if s is not None:
            preds.append(f"{label} {ms(s.predicted)} (target {ms(s.target)})")
    basis = "from the closed-form screen only" if option.evaluation == "screened" else f"{option.basis}"
    parts.append("Predicted " + ", ".join(preds) + f" ({basis}).")
    observed = planner.outcomes_of(c)
    if observed is not None:
        # Say which numbers moved and by how much, so a reader can tell learning from physics.
        parts.append(f"Predictions {observed.describe(f' of {short(cfg.model_id)} on {cfg.gpu_id}')}.")
    uncertain = [s for s in option.slo_checks if s.verdict == "uncertain"]
    if uncertain:
        words = ", ".join(
            f"{_metric_label(s.metric)} (80% interval up to {ms(s.interval[1]) if s.interval else '?'})"
            for s in uncertain
        )
        parts.append(f"Compliance is uncertain for {words}: the interval straddles the target.")
    q = option.quality
    task = f" for {q.task}" if q.task else ""
    if q.basis == "unknown":
        parts.append(f"Quality{task} unknown: no comparable published score (not estimated from size).")
    else:
        parts.append(f"Quality index{task} {q.index:.0f} ({q.basis}, {', '.join(q.families) or 'scores'}).")
    if q.below_reference:
        parts.append(q.below_reference[0].upper() + q.below_reference[1:] + ".")
    parts.append(_why_rank(planner, c, option, ranked))
    if option.vs_cheaper:
        parts.append(option.vs_cheaper)
    parts.extend(f"Note: {flag}." for flag in option.flags)
    model = planner.catalog.models.get(cfg.model_id)
    if model is not None and not model.license:
        parts.append("The catalog records no licence for this model: check it before use.")
    if cost.deployment_model == "cloud_rental" and any(p.excludes_host for p in cost.prices):
        parts.append("The price excludes the host VM.")
    return " ".join(p for p in parts if p)


def _metric_label(metric: str) -> str:
    return {"ttft_p90_ms": "TTFT p90", "tpot_p90_ms": "TPOT p90", "e2e_p95_ms": "E2E p95"}.get(metric, metric)


def _why_rank(planner: Planner, c: Candidate, option: Option, ranked: Sequence[Candidate]) -> str:
    if c.cfg.model_id in planner.spec.preferred_models:
        return f"Ranked up because you prefer {short(c.cfg.model_id)}."
    priority = planner.spec.priority
    first = ranked[0] if ranked else None
    if option.rank == 1 or first is None or first is c:
        return {
            "cost": "Ranked first for cost: the cheapest configuration found that meets every target"
            + (
                " (owned hardware: fewest GPUs)."
                if planner.spec.deployment_model == "owned_hardware"
                else "."
            ),
            "latency": "Ranked first for latency: the best room under the latency targets (credit stops at "
            "2× under each), then cost and quality.",
            "accuracy": "Ranked first for accuracy: the highest quality band (3 points) that meets every "
            "target, and the cheapest within it.",
            "balanced": "Ranked first overall: the best balance of cost, latency and quality.",
        }[priority]
    diffs = []
    if c.cost and first.cost:
        delta = c.cost.monthly_usd - first.cost.monthly_usd
        if abs(delta) >= 1:
            diffs.append(f"{usd(abs(delta))}/month {'more' if delta > 0 else 'less'} than #1")
    lat = planner.latency_key(c) / max(planner.latency_key(first), 1e-9)
    if lat < 0.95:
        diffs.append(f"{(1 - lat) * 100:.0f}% lower latency")
    elif lat > 1.05:
        diffs.append(f"{(lat - 1) * 100:.0f}% higher latency")
    dq = c.quality.index - first.quality.index
    if abs(dq) >= 1:
        diffs.append(f"quality {dq:+.0f}")
    tail = ", ".join(diffs) if diffs else "close to #1 on every measure"
    return f"Ranked #{option.rank} for {priority}: {tail}."


# --- rejections and relaxations --------------------------------------------------------------------------


def _severity(v: Violation) -> float:
    if v.field in ("quality_threshold", "quality_reference_model", "preferred_models"):
        return math.log(max(v.limit, 1e-9) / max(v.value, 1e-9))
    if v.field == "cloud_provider":
        return 5.0
    return math.log(max(v.value, 1e-9) / max(v.limit, 1e-9))


def _miss_score(c: Candidate) -> tuple[int, float]:
    return (len(c.violations), sum(max(_severity(v), 0.0) for v in c.violations))


def _reason(c: Candidate) -> str:
    """The binding constraint first (the one missed by the widest margin), then the others."""
    head = f"needs {c.cfg.min_fit_tp} GPUs to fit; " if c.cfg.min_fit_tp > 1 else ""
    ordered = sorted(c.violations, key=_severity, reverse=True)
    if not ordered:
        return head.rstrip("; ")
    rest = "; ".join(v.text for v in ordered[1:])
    return head + f"binding: {ordered[0].text}" + (f"; also {rest}" if rest else "")


def rejections(planner: Planner, cands: Sequence[Candidate]) -> tuple[list[Rejected], list[Rejected]]:
    """Notable rejected (model, GPU) pairs with why, and the nearest misses."""
    ok_pairs = {c.pair for c in cands if not c.violations}
    # Each candidate's miss score is computed once (large catalogs have tens of thousands of rejections).
    best: dict[tuple[str, str], Candidate] = {}
    score: dict[tuple[str, str], tuple[int, float]] = {}
    for c in cands:
        if not c.violations:
            continue
        pair = c.pair
        if pair in ok_pairs:
            continue
        cur = score.get(pair)
        if cur is not None and len(c.violations) > cur[0]:
            continue  # more violations than the pair's nearest miss so far: its score cannot be lower
        s = _miss_score(c)
        if cur is None or s < cur:
            best[pair] = c
            score[pair] = s
    preferred = set(planner.spec.preferred_models)
    by_score = sorted(
        best.values(),
        key=lambda c: (
            c.cfg.model_id not in preferred,
            score[c.pair][0],
            -c.quality.index,
            score[c.pair][1],
        ),
    )
    # Notable first: the two nearest GPUs of each model, then the rest.
    per_model: Counter[str] = Counter()
    first: list[Candidate] = []
    rest: list[Candidate] = []
    for c in by_score:
        per_model[c.cfg.model_id] += 1
        (first if per_model[c.cfg.model_id] <= 2 else rest).append(c)
    ordered = first + rest
    # Only the first ``limit`` (preferred models first) are returned: word just those.
    entries: list[tuple[str, Callable[[], Rejected]]] = [
        (c.cfg.model_id, partial(_candidate_rejection, c)) for c in ordered
    ]
    seen = set(best) | ok_pairs
    for r in planner.memory_rejections:
        pair = (r.model_id, r.gpu_id or "")
        if pair in seen:
            continue
        seen.add(pair)
        entries.append((r.model_id, partial(_memory_rejection, r)))
    entries.extend((r.model_id, partial(_same, r)) for r in planner.catalog.catalog_rejections)
    limit = planner.settings.rejected_limit
    chosen = [e for e in entries if e[0] in preferred][:limit]
    if len(chosen) < limit:
        chosen += [e for e in entries if e[0] not in preferred][: limit - len(chosen)]
    notable = [make() for _, make in chosen]
    misses_sorted = sorted(best.values(), key=lambda c: score[c.pair])
    misses = [
        Rejected(
            model_id=c.cfg.model_id,
            gpu_id=c.cfg.gpu_id,
            precision=c.cfg.precision,
            tp=c.cfg.tp,
            reason=f"{short(c.cfg.model_id)} on {c.gpus_total or c.cfg.tp} × {c.cfg.gpu_id}: {_reason(c)}",
        )
        for c in misses_sorted[:5]
    ]
    return notable, misses


def _candidate_rejection(c: Candidate) -> Rejected:
    return Rejected(
        model_id=c.cfg.model_id,
        gpu_id=c.cfg.gpu_id,
        precision=c.cfg.precision,
        tp=c.cfg.tp,
        reason=f"{short(c.cfg.model_id)} on {c.cfg.gpu_id}: {_reason(c)}",
    )


def _memory_rejection(r: Rejected) -> Rejected:
    return r.model_copy(update={"reason": f"{short(r.model_id)} on {r.gpu_id}: {r.reason}"})


def _same(r: Rejected) -> Rejected:
    return r


def _where(r: Rejected) -> str:
    return f"{short(r.model_id)} on {r.gpu_id}" if r.gpu_id else short(r.model_id)


def _binding(r: Rejected) -> tuple[str, str]:
    """(the reason without its "model on GPU: " prefix, the binding constraint alone) of a rejection."""
    why = r.reason.removeprefix(f"{_where(r)}: ")
    binding = why.split("binding: ", 1)[1].split("; also ", 1)[0] if "binding: " in why else why
    return why, binding


def rejection_lines(rejected: Sequence[Rejected], limit: int = 8) -> list[str]:
    """The notable rejections for people (CLI and chat): configurations rejected for the same binding
    constraint are one line with a count and their names, so one reason is not read eight times."""
    groups: dict[str, list[Rejected]] = {}
    for r in rejected:
        groups.setdefault(_binding(r)[1], []).append(r)
    lines = []
    for binding, rs in list(groups.items())[:limit]:
        if len(rs) == 1:
            lines.append(f"{_where(rs[0])}: {_binding(rs[0])[0]}")
            continue
        names = list(dict.fromkeys(_where(r) for r in rs))
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        lines.append(f"{binding} — {len(rs)} configurations: {shown}")
    return lines


def _suggest(field: str, values: Sequence[float], planner: Planner) -> object:
    if field in ("quality_reference_model", "preferred_models"):
        return None  # drop the named floor / name a smaller model yourself
    if field == "quality_threshold":
        best = max(values)
        for name in ("very_high", "high", "standard"):
            if best >= THRESHOLDS[name]:
                return name
        return "standard"
    need = min(values)
    if field in ("target_ttft_p90_ms", "target_tpot_p90_ms", "target_e2e_latency_p95_ms"):
        return _nice(need * 1.1)
    if field in ("max_monthly_cost_usd", "max_hourly_cost_usd"):
        return _nice(need)
    if field in ("max_gpus", "gpu_inventory"):
        return math.ceil(need)
    if field == "cloud_provider":
        return None
    return need


def _nice(value: float) -> float:
    """Round up to two significant digits (1 234 -> 1 300)."""
    if value <= 0:
        return value
    mag = 10 ** max(math.floor(math.log10(value)) - 1, -2)
    return round(math.ceil(value / mag) * mag, 2)


def _current(field: str, planner: Planner) -> object:
    spec = planner.spec
    if field == "gpu_inventory":
        return {i.gpu: i.count for i in spec.gpu_inventory}
    return getattr(spec, field, None)


def relaxations(planner: Planner, cands: Sequence[Candidate]) -> list[Relaxation]:
    """What to loosen: for each constraint, the least change that makes at least one candidate viable."""
    by_field: dict[str, list[Candidate]] = {}
    for c in cands:
        fields = {v.field for v in c.violations}
        if len(fields) == 1:
            by_field.setdefault(next(iter(fields)), []).append(c)
    out: list[Relaxation] = []
    for fld, group in by_field.items():
        values = [next(v.value for v in c.violations if v.field == fld) for c in group]
        suggested = _suggest(fld, values, planner)
        pick = min(group, key=lambda c: _severity(c.violations[0]))
        example = f"{short(pick.cfg.model_id)} on {pick.gpus_total or pick.cfg.tp} × {pick.cfg.gpu_id}"
        pairs = len({c.pair for c in group})
        if fld == "cloud_provider":
            effect = f"{pairs} model/GPU pair(s) have prices from other sources, e.g. {example}"
        else:
            # Say only what is known: these pairs have no other recorded miss. Sizing-dependent checks
            # (the budget among them) can be skipped for a candidate that already misses a latency
            # target, so a budget the example is over is named rather than claimed met.
            effect = f"{pairs} model/GPU pair(s) miss only this, e.g. {example}"
            budget = planner.spec.max_monthly_cost_usd if fld != "max_monthly_cost_usd" else None
            if pick.cost is not None:
                effect += f" at {usd(pick.cost.monthly_usd)}/month"
                if budget and pick.cost.monthly_usd > budget:
                    effect += f", which is still over the {usd(budget)}/month budget"
            elif budget:
                effect += f" (not sized yet, so whether it fits the {usd(budget)}/month budget is unknown)"
        out.append(Relaxation(field=fld, current=_current(fld, planner), suggested=suggested, effect=effect))
    if not out:
        # No single change is enough: show what the nearest miss would need, all together.
        ranked = sorted((c for c in cands if c.violations), key=_miss_score)
        if ranked:
            c = ranked[0]
            example = f"{short(c.cfg.model_id)} on {c.gpus_total or c.cfg.tp} × {c.cfg.gpu_id}"
            for v in c.violations:
                out.append(
                    Relaxation(
                        field=v.field,
                        current=_current(v.field, planner),
                        suggested=_suggest(v.field, [v.value], planner),
                        effect=f"together with the other changes listed, {example} would qualify",
                    )
                )
    order = {"quality_threshold": 3, "max_monthly_cost_usd": 0, "max_hourly_cost_usd": 0}
    return sorted(out, key=lambda r: (order.get(r.field, 1), r.field))


def nothing_message(planner: Planner, cands: Sequence[Candidate]) -> str:
    spec = planner.spec
    if not cands and not planner.memory_rejections:
        where = []
        if spec.available_gpus:
            where.append(f"GPUs {', '.join(spec.available_gpus)}")
        if spec.cloud_provider and spec.deployment_model == "cloud_rental":
            where.append(f"prices from {spec.cloud_provider}")
        return (
            "nothing meets these constraints: no approved model for "
            f"{spec.task_type} has a candidate configuration"
            + (f" with {' and '.join(where)}" if where else "")
            + "."
        )
    if not cands:
        return (
            "nothing meets these constraints: no model fits in the memory of the allowed GPUs "
            "(up to 8 per replica)."
        )
    counts: Counter[str] = Counter()
    best_value: dict[str, tuple[float, Candidate]] = {}
    for c in cands:
        for v in c.violations:
            counts[v.field] += 1
    # The best value of each constraint among candidates that miss only it, when there are such.
    fewest = sorted(cands, key=lambda c: len(c.violations))
    for c in fewest:
        for v in c.violations:
            if v.field in best_value and len(c.violations) > len(best_value[v.field][1].violations):
                continue
            cur = best_value.get(v.field)
            better = (
                v.value > cur[0]
                if (cur and v.field == "quality_threshold")
                else (cur is None or v.value < cur[0])
            )
            if cur is None or better:
                best_value[v.field] = (v.value, c)
    total = len(cands)
    bits = []
    first_fields = ("max_monthly_cost_usd", "max_hourly_cost_usd", "max_gpus", "gpu_inventory")
    top = sorted(counts.most_common(4), key=lambda kv: (kv[0] not in first_fields, -kv[1]))[:3]
    for fld, n in top:
        value, c = best_value[fld]
        who = f"{short(c.cfg.model_id)} on {c.cfg.gpu_id}"
        label = _LABELS.get(fld, fld)
        limit = next(v.limit for v in c.violations if v.field == fld)
        if fld.startswith("target_"):
            bits.append(
                f"{n} of {total} configurations miss the {label} target of {ms(limit)} "
                f"(best: {ms(value)}, {who})"
            )
        elif fld in ("max_monthly_cost_usd", "max_hourly_cost_usd"):
            bits.append(f"{n} cost more than the {label} of {usd(limit)} (cheapest: {usd(value)}, {who})")
        elif fld == "preferred_models":
            bits.append(f"{n} use a model below the {limit:g} B minimum for {spec.task_type} (e.g. {who})")
        elif fld == "quality_reference_model":
            bits.append(f"{n} fall below the quality of {short(str(spec.quality_reference_model))} ({who})")
        elif fld == "quality_threshold":
            bits.append(
                f"{n} fall below the quality index {limit:.0f} for '{spec.quality_threshold}' "
                f"(best: {value:.1f}, {who})"
            )
        else:
            bits.append(f"{n} exceed the {label} (smallest need: {value:g}, {who})")
    return "nothing meets these constraints: " + "; ".join(bits) + ". See `relax` for what to loosen."


def _gains(planner: Planner, c: Candidate, other: Candidate) -> list[str]:
    """What ``c`` offers over ``other``, from the real comparison: quality, each latency percentile that is
    at least 5% better, the preferred model."""
    gains = []
    dq = c.quality.index - other.quality.index
    if dq >= 1:
        gains.append(f"higher quality ({c.quality.index:.0f} vs {other.quality.index:.0f})")
    for label, mine, theirs in (
        ("TTFT p90", c.ttft, other.ttft),
        ("TPOT p90", c.tpot, other.tpot),
        ("E2E p95", c.e2e, other.e2e),
    ):
        if math.isfinite(mine) and math.isfinite(theirs) and mine < 0.95 * theirs:
            gains.append(f"faster {label} ({ms(mine)} vs {ms(theirs)})")
    if (
        c.cfg.model_id in planner.spec.preferred_models
        and other.cfg.model_id not in planner.spec.preferred_models
    ):
        gains.append("the model you prefer")
    return gains


def _more(planner: Planner, c: Candidate, other: Candidate) -> str:
    assert c.cost is not None and other.cost is not None
    if planner.spec.deployment_model == "owned_hardware" and not c.cost.monthly_usd:
        return f"{c.gpus_total - other.gpus_total} more GPUs"
    return f"{usd(c.cost.monthly_usd - other.cost.monthly_usd)}/month more"


def _name(c: Candidate, rank: int) -> str:
    assert c.cost is not None
    where = f"{c.gpus_total} × {c.cfg.gpu_id}"
    return f"#{rank} {short(c.cfg.model_id)} on {where} ({usd(c.cost.monthly_usd)}/month)"


def vs_next_cheaper(planner: Planner, c: Candidate, ranked: Sequence[Candidate]) -> str:
    """How ``c`` compares with the cheaper configurations that meet the targets, by their real ranks: it
    "beats" only a cheaper one ranked below it; against a cheaper one ranked above it, it says what the
    extra money buys (or that it buys nothing at this priority)."""
    mine = planner.cost_key(c)
    rank_of = {id(v): i + 1 for i, v in enumerate(ranked)}  # by identity: candidates compare by value
    pos = rank_of.get(id(c), len(ranked) + 1) - 1
    cheaper_above = [v for v in ranked[:pos] if planner.cost_key(v) < mine - 1e-6]
    cheaper_below = [v for v in ranked[pos + 1 :] if planner.cost_key(v) < mine - 1e-6]
    parts: list[str] = []
    if cheaper_above:
        first = cheaper_above[0]
        gains = _gains(planner, c, first)
        offer = "; ".join(gains) if gains else "nothing better on latency or quality at this priority"
        parts.append(
            f"Costs {_more(planner, c, first)} than the cheaper {_name(first, rank_of[id(first)])}, "
            f"ranked above it: it offers {offer}."
        )
    if cheaper_below:
        nxt = max(cheaper_below, key=planner.cost_key)
        gains = _gains(planner, c, nxt)
        why = "; ".join(gains) if gains else f"the {planner.spec.priority} ranking's tie-break on quality"
        parts.append(
            f"Beats the cheaper {_name(nxt, rank_of[id(nxt)])}: {why}; it trades "
            f"{_more(planner, c, nxt)} for that."
        )
    if parts:
        return " ".join(parts)
    same = [v for v in ranked[:pos] if abs(planner.cost_key(v) - mine) <= 1e-6]
    if same:
        return (
            f"No cheaper configuration found meets every target; {short(same[0].cfg.model_id)} on "
            f"{same[0].cfg.gpu_id} costs the same and ranks above it."
        )
    return "No cheaper configuration found meets every target."


def traffic_reading_line(result: RecommendationResult) -> str | None:
    """How the load was read and its plausible range, in one line (CLI and chat)."""
    t = result.traffic
    if t.peak_qps_low is None or t.peak_qps_high is None:
        return None
    what = {
        "concurrent": "users at the same moment",
        "daily": "distinct users a day",
        "total": "a user population",
        "batch": "a batch job with a deadline",
        "rate": "a request rate",
    }[t.reading]
    if t.load_assumed:
        return (
            f"Reading: assumed (not stated), {what} from the template; peak {t.peak_qps:,.3g} QPS (plausible "
            f"{t.peak_qps_low:,.3g}–{t.peak_qps_high:,.3g}); give a user count or request rate to replace it."
        )
    return (
        f"Reading: {what}; peak {t.peak_qps:,.3g} QPS (plausible {t.peak_qps_low:,.3g}–"
        f"{t.peak_qps_high:,.3g}); edit the user count or its kind to change it."
    )


def option_work_lines(o: Option) -> list[str]:
    """Price class and range, blended vs peak cost, batch pricing, utilisation and headroom, alternatives,
    flags: the work behind an option (CLI and chat)."""
    lines: list[str] = []
    c = o.cost
    if c.deployment_model == "cloud_rental" and c.usd_per_gpu_hour is not None:
        klass = c.price_class or "unclassified"
        line = f"price: {klass} source {c.provider} at ${c.usd_per_gpu_hour:.2f}/GPU-hour"
        if c.price_low is not None and c.price_median is not None and c.price_high is not None:
            line += (
                f"; trusted range ${c.price_low:.2f}–${c.price_median:.2f}–${c.price_high:.2f} "
                "(min–median–max" + (f", {c.price_dates}" if c.price_dates else "") + ")"
            )
        lines.append(line)
        if c.batch_monthly_usd is not None:
            lines.append(
                f"batch: {c.batch_hours_per_run or 0:.2f} h a run "
                f"({(c.batch_cold_start_hours or 0) * 60:.0f} min cold start included) = "
                f"{c.batch_gpu_hours_per_run:g} GPU-hours and ${c.batch_usd_per_run:,.2f} a run, "
                f"${c.batch_monthly_usd:,.0f}/month scaled to zero between runs; always on "
                f"${c.always_on_monthly_usd or 0:,.0f}/month"
            )
        elif c.monthly_usd_at_peak is not None:
            lines.append(
                f"cost: ${c.monthly_usd:,.0f}/month blended over the day "
                f"({c.peak_hours_per_day or 24:.0f} h at peak); ${c.monthly_usd_at_peak:,.0f}/month always "
                "at peak"
            )
        if c.marketplace_monthly_usd is not None:
            lines.append(
                f"marketplace/spot alternative: ${c.marketplace_monthly_usd:,.0f}/month"
                + (" for the same runs" if c.batch_monthly_usd is not None else "")
                + " (can be reclaimed)"
            )
    if o.utilization_at_peak is not None:
        room = f", headroom +{o.slo_headroom:.0%} before the SLOs break" if o.slo_headroom is not None else ""
        lines.append(f"utilisation at peak: {o.utilization_at_peak:.0%}{room}")
    lines.extend(
        f"faster: {a.gpus_total} × {a.gpu_id} ({a.precision}, TP {a.tp}): {a.buys}" for a in o.alternatives
    )
    lines.extend(f"flag: {f}" for f in o.flags)
    return lines
