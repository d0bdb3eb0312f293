"""What-if scenarios: save a specification with its chosen option, re-plan with changes, compare side by side.

A scenario is a named (specification, chosen option) pair in the ``scenarios`` table, pointing at the stored
recommendation it came from. ``compare_scenarios`` builds the seed design's Scenario A / B table with deltas
against the first scenario; ``viable_if_ttft`` answers "which configurations stay viable if the TTFT target
tightens to X?".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal, audit
from app.errors import Conflict, Invalid, NotFound
from app.intent.schema import Specification
from app.planning.explain import ms, option_work_lines, short, traffic_reading_line, usd
from app.planning.quality import THRESHOLDS
from app.planning.recommend import Offload, get_recommendation, recommend
from app.planning.result import Option, RecommendationResult
from db import models as m


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


_NAME_MAX = 120


def _summary(option: dict[str, Any] | None) -> str:
    if not option:
        return "no option chosen"
    cost = option.get("cost", {})
    checks = {c["metric"]: c for c in option.get("slo_checks", [])}
    ttft = checks.get("ttft_p90_ms", {}).get("predicted")
    return (
        f"{short(option['model_id'])} on {option['gpus_total']}× {option['gpu_id']} ({option['precision']}), "
        f"{usd(cost.get('monthly_usd', 0.0))}/month" + (f", TTFT p90 {ms(ttft)}" if ttft is not None else "")
    )


def _view(row: m.Scenario) -> ScenarioView:
    return ScenarioView(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        recommendation_id=str(row.recommendation_id) if row.recommendation_id else None,
        option_rank=row.option_index,
        specification=row.specification,
        option=row.option,
        summary=_summary(row.option),
    )


def _find_option(result: RecommendationResult, rank: int) -> Option:
    for o in list(result.options) + list(result.viable):
        if o.rank == rank:
            return o
    ranks = [o.rank for o in result.options]
    raise ScenarioError(
        f"recommendation {result.recommendation_id} has no option ranked {rank}"
        + (f"; its options are ranked {ranks}" if ranks else " (it found no options)")
    )


async def save_scenario(
    name: str,
    recommendation_id: str,
    *,
    option_rank: int = 1,
    session: AsyncSession,
    principal: Principal | None = None,
) -> ScenarioView:
    """Save the chosen option of a stored recommendation, with its specification, under ``name``."""
    name = name.strip()
    if not name or len(name) > _NAME_MAX:
        raise ScenarioError(f"a scenario name is 1-{_NAME_MAX} characters")
    who = principal or Principal.system()
    result = await get_recommendation(recommendation_id, session=session, principal=who)
    option = _find_option(result, option_rank)
    existing = await _get_row(name, session=session, principal=who, missing_ok=True)
    if existing is not None:
        raise ScenarioExists(f"a scenario named {name!r} already exists; choose another name")
    row = m.Scenario(
        name=name,
        owner_id=who.id,
        specification=result.specification,
        recommendation_id=_uuid(recommendation_id),
        option_index=option_rank,
        option=option.model_dump(mode="json"),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as e:
        raise ScenarioExists(f"a scenario named {name!r} already exists; choose another name") from e
    await audit(
        who,
        "scenario.save",
        "scenario",
        str(row.id),
        {"name": name, "recommendation": recommendation_id, "option": option_rank},
        session=session,
    )
    return _view(row)


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(str(value))


async def _get_row(
    name: str, *, session: AsyncSession, principal: Principal, missing_ok: bool = False
) -> m.Scenario | None:
    stmt = select(m.Scenario).where(m.Scenario.name == name)
    if principal.id is None:
        stmt = stmt.where(m.Scenario.owner_id.is_(None))
    else:
        stmt = stmt.where(m.Scenario.owner_id == principal.id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None and not missing_ok:
        raise ScenarioNotFound(f"no scenario named {name!r}; `preflight scenario list` shows the saved ones")
    return row


async def list_scenarios(*, session: AsyncSession, principal: Principal | None = None) -> list[ScenarioView]:
    who = principal or Principal.system()
    stmt = select(m.Scenario).order_by(m.Scenario.created_at)
    stmt = stmt.where(m.Scenario.owner_id.is_(None) if who.id is None else m.Scenario.owner_id == who.id)
    return [_view(r) for r in (await session.execute(stmt)).scalars()]


async def get_scenario(
    name: str, *, session: AsyncSession, principal: Principal | None = None
) -> ScenarioView:
    row = await _get_row(name, session=session, principal=principal or Principal.system())
    assert row is not None
    return _view(row)


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


async def compare_scenarios(
    names: list[str], *, session: AsyncSession, principal: Principal | None = None
) -> Comparison:
    if len(names) < 2:
        raise ScenarioError("compare needs at least two scenarios")
    who = principal or Principal.system()
    columns = []
    for name in names:
        row = await _get_row(name, session=session, principal=who)
        assert row is not None
        if not row.option:
            raise ScenarioError(f"scenario {name!r} has no chosen option to compare")
        columns.append(column_of(name, row.option))
    return comparison(columns)


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
        raise ScenarioError(f"cannot apply {sorted(changes)}: {e}") from e


async def replan_scenario(
    name: str,
    changes: dict[str, Any],
    *,
    save_as: str | None = None,
    session: AsyncSession,
    principal: Principal | None = None,
    offload: Offload | None = None,
) -> RecommendationResult:
    """Change fields of a scenario's specification and plan again (optionally saving the top option)."""
    who = principal or Principal.system()
    row = await _get_row(name, session=session, principal=who)
    assert row is not None
    spec = apply_changes(Specification.model_validate(row.specification), changes)
    result = await recommend(
        spec, session=session, principal=who, input_text=f"replan of scenario {name}", offload=offload
    )
    if save_as and result.options and result.recommendation_id:
        await save_scenario(save_as, result.recommendation_id, option_rank=1, session=session, principal=who)
    return result


def _label(o: Option) -> str:
    return f"{short(o.model_id)} on {o.gpus_total}× {o.gpu_id} ({o.precision})"


async def viable_if_ttft(
    name_or_recommendation: str,
    ttft_p90_ms: float,
    *,
    session: AsyncSession,
    principal: Principal | None = None,
    offload: Offload | None = None,
) -> TightenReport:
    """Which configurations of a scenario's (or recommendation's) plan stay viable at a tighter TTFT."""
    who = principal or Principal.system()
    row = await _get_row(name_or_recommendation, session=session, principal=who, missing_ok=True)
    if row is not None and row.recommendation_id is not None:
        before = await get_recommendation(str(row.recommendation_id), session=session, principal=who)
    else:
        try:
            before = await get_recommendation(name_or_recommendation, session=session, principal=who)
        except LookupError as e:
            raise ScenarioNotFound(f"no scenario or recommendation {name_or_recommendation!r}") from e
    spec = apply_changes(
        Specification.model_validate(before.specification), {"target_ttft_p90_ms": ttft_p90_ms}
    )
    after = await recommend(
        spec,
        session=session,
        principal=who,
        input_text=f"TTFT p90 tightened to {ttft_p90_ms:g} ms",
        offload=offload,
    )
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
        out.extend(f"  {r.reason}" for r in result.rejected[:8])
    return "\n".join(out)
