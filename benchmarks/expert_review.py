"""Score recommendations against an expert's acceptance ranges (tests/data/expert_cases.jsonl).

    .venv/bin/python benchmarks/expert_review.py [--cases tests/data/expert_cases.jsonl] [--verbose]

Each case is a request in words with the ranges an experienced capacity planner would accept for the top
option: peak QPS, model size, GPU family, GPU count, monthly cost (the peak configuration at 730 h, or the
batch/owned/purchase figure the case asks for), capex, context length, and the priority the request implies.
Every request goes through the real path in-process: the intent engine (rules) and the template search, then
``recommend`` over the bundled catalog in the embedded Postgres (inside a transaction that is rolled back, so
the database is unchanged). The qualitative "must"/"must_not" lines are printed for a reader, not scored.

Prints one line per case with each check as PASS/FAIL and the figure it saw, then the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = ROOT / "tests" / "data" / "expert_cases.jsonl"


def _in(value: float | None, bounds: list[float]) -> bool:
    return value is not None and bounds[0] - 1e-9 <= value <= bounds[1] + 1e-9


def _gpu_matches(gpu_id: str, names: list[str]) -> bool:
    key = gpu_id.upper().replace("-", "")
    return any(key.startswith(n.upper().replace("-", "")) for n in names)


def _monthly(option: Any) -> float | None:
    """The monthly figure the cases mean: batch cost per month for a batch plan, else the peak configuration
    all month (owned: power; purchase: the amortised TCO)."""
    cost = option.cost
    batch = getattr(cost, "batch_monthly_usd", None)
    if batch is not None:
        return float(batch)
    if cost.deployment_model == "cloud_rental":
        return float(cost.monthly_usd_at_peak if cost.monthly_usd_at_peak is not None else cost.monthly_usd)
    return float(cost.monthly_usd)


def score(
    case: dict[str, Any], spec: Any, result: Any, params_b: dict[str, float]
) -> list[tuple[str, bool, str]]:
    """(check, passed, what was seen) for every acceptance range of ``case``."""
    expect = case["expect"]
    checks: list[tuple[str, bool, str]] = []
    if case.get("priority_expected"):
        checks.append(("priority", spec.priority == case["priority_expected"], spec.priority))
    if "peak_qps" in expect:
        peak = result.traffic.peak_qps
        checks.append(("peak_qps", _in(peak, expect["peak_qps"]), f"{peak:.3g}"))
    top = result.options[0] if result.options else None
    if top is None:
        checks.append(("has_option", False, result.message or "no option"))
        return checks
    if "model_params_b" in expect:
        size = params_b.get(top.model_id)
        checks.append(("model_params_b", _in(size, expect["model_params_b"]), f"{top.model_id} {size:.1f}B"))
    if "model_family_any_of" in expect:
        ok = any(f.lower() in top.model_id.lower() for f in expect["model_family_any_of"])
        checks.append(("model_family", ok, top.model_id))
    if "gpu_any_of" in expect:
        checks.append(("gpu", _gpu_matches(top.gpu_id, expect["gpu_any_of"]), top.gpu_id))
    if "gpus_total" in expect:
        checks.append(("gpus_total", _in(top.gpus_total, expect["gpus_total"]), str(top.gpus_total)))
    if "monthly_cost_usd" in expect:
        monthly = _monthly(top)
        checks.append(("monthly_cost_usd", _in(monthly, expect["monthly_cost_usd"]), f"${monthly:,.0f}"))
    if "capex_usd" in expect:
        capex = top.cost.capex_usd
        checks.append(("capex_usd", _in(capex, expect["capex_usd"]), f"${capex:,.0f}" if capex else "none"))
    if "max_context_at_least" in expect:
        max_len = int(top.vllm_args.get("max_model_len", 0))
        checks.append(("max_model_len", max_len >= expect["max_context_at_least"], str(max_len)))
    if expect.get("batch"):
        batch = getattr(top.cost, "batch_monthly_usd", None)
        batch_spec = getattr(spec, "batch_items", None)
        checks.append(("batch_priced", batch_spec is not None and batch is not None, str(batch)))
    return checks


async def run(cases: list[dict[str, Any]], verbose: bool) -> None:
    from app.perf.memory import param_counts
    from app.services.planner import arch_from_row, recommend
    from app.services.specify import spec_from_text
    from db import catalog_queries as q
    from db.session import dispose_engine, get_engine

    engine = await get_engine()
    passed_cases = 0
    passed_checks = 0
    total_checks = 0
    t_all = time.perf_counter()
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        try:
            params_b = {
                row.id: param_counts(arch_from_row(row)).total / 1e9
                for row in await q.load_all_models(session=session)
            }
            for case in cases:
                spec = await spec_from_text(case["request"], session=session)
                try:
                    result = await recommend(spec, session=session, store=False)
                except Exception as e:  # a crash fails the case; the others still run
                    print(f"[FAIL] {case['id']}: recommend raised {type(e).__name__}: {e}")
                    total_checks += 1
                    continue
                checks = score(case, spec, result, params_b)
                ok = all(p for _, p, _ in checks)
                passed_cases += ok
                passed_checks += sum(p for _, p, _ in checks)
                total_checks += len(checks)
                marks = "; ".join(f"{name} {'PASS' if p else 'FAIL'} ({seen})" for name, p, seen in checks)
                print(f"[{'PASS' if ok else 'FAIL'}] {case['id']}: {marks}")
                if verbose and result.options:
                    top = result.options[0]
                    print(
                        f"       top: {top.model_id} on {top.gpus_total}x {top.gpu_id} ({top.precision}); "
                        f"{top.rationale[:400]}"
                    )
                    for line in result.traffic.explanation[:2]:
                        print(f"       load: {line}")
        finally:
            await session.close()
            await outer.rollback()
    await dispose_engine()
    print(
        f"\nexpert review: {passed_cases}/{len(cases)} cases pass, "
        f"{passed_checks}/{total_checks} checks pass ({time.perf_counter() - t_all:.1f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    asyncio.run(run(cases, args.verbose))
