"""How fast is a full recommendation? In-process, warm, over the seeded catalog and over a catalog grown 10×.

    .venv/bin/python benchmarks/recommend_speed.py [--runs 20] [--request TEXT ...] [--outcomes N]

Targets (issue 4): p95 < 300 ms over the seeded catalog; < 2 s with a 10× catalog. Each run is the whole
service call: name checks, SQL candidate generation, screening, the full percentile model on the finalists,
explanations and storing the result (inside a transaction that is rolled back, so the database is unchanged).

Three figures per catalog and request: the same request repeated (the prediction cache is warm), requests
with a different load each time (the full model runs afresh on every finalist), and the first call. Two
requests by default: a latency-priority chatbot and a cost-priority one (the cost search runs the full model
on the most finalists). The machine's load average is printed with the figures: they depend on it.

With ``--outcomes N``, N observed outcomes (slower than predicted) of each request's first few options are
stored first, so the figures include learning: the grouped corrections query, corrected predictions, and
embedding the request to find similar outcomes. Without it no outcome exists and none of that runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def grow_catalog(session: AsyncSession, factor: int) -> None:
    """Copy every recommendable model (factor − 1) times and every price row (factor − 1) times."""
    from sqlalchemy import select

    from db import models as m

    originals = list(
        (await session.execute(select(m.Model).where(m.Model.role == "recommendable"))).scalars()
    )
    columns = [c.name for c in m.Model.__table__.columns]
    for k in range(1, factor):
        for row in originals:
            data = {c: getattr(row, c) for c in columns}
            session.add(m.Model(**{**data, "id": f"{row.id}-gen{k}", "aliases": []}))
        await session.execute(
            text(
                "INSERT INTO prices (gpu_id, label, kind, provider, region, instance_type, "
                "gpus_per_instance, "
                "usd_per_instance_hour, usd_per_gpu_hour, usd_per_gpu_hour_derived, usd_purchase, "
                "usd_purchase_high, "
                "excludes_host, price_date, source, source_url, notes, seed_source) "
                "SELECT gpu_id, label, kind, provider || ' gen' || CAST(:k AS text), region, instance_type, "
                "gpus_per_instance, "
                "usd_per_instance_hour, usd_per_gpu_hour * (1 + 0.01 * CAST(CAST(:k AS text) AS integer)), "
                "usd_per_gpu_hour_derived, usd_purchase, "
                "usd_purchase_high, excludes_host, price_date, source, source_url, notes, seed_source "
                "FROM prices WHERE provider NOT LIKE '% gen%'"
            ),
            {"k": str(k)},
        )


REQUESTS = (
    "a chatbot for 1000 users, low latency is critical",
    "a chatbot for 1000 users, cheapest option",
)


async def add_outcomes(session: AsyncSession, request: str, count: int) -> None:
    """``count`` outcomes spread over the first options of ``request``, each observed 1.3x slower."""
    from app.observe.outcomes import DeploymentConfig, record_outcome
    from app.services.planner import recommend
    from app.services.specify import spec_from_text

    spec = await spec_from_text(request, session=session)
    result = await recommend(spec, session=session, store=False)
    for i in range(count):
        o = result.options[i % len(result.options)]
        predicted = {"tpot_ms": o.tpot_ms.model_dump(), "output_tokens_per_s": o.output_tokens_per_s}
        observed = {
            "tpot_ms": o.tpot_ms.scaled(1.3).model_dump(),
            "output_tokens_per_s": o.output_tokens_per_s / 1.3,
        }
        config = DeploymentConfig(model_id=o.model_id, gpu_id=o.gpu_id, tp=o.tp, precision=o.precision)
        await record_outcome(
            config, session=session, observed=observed, predicted=predicted, spec=spec.model_dump()
        )
    await session.flush()


async def measure(session: AsyncSession, runs: int, label: str, request: str) -> dict[str, Any]:
    from app.services.planner import recommend
    from app.services.specify import spec_from_text

    base = await spec_from_text(request, session=session)
    t = time.perf_counter()
    first = await recommend(base, session=session)
    first_ms = (time.perf_counter() - t) * 1e3
    for _ in range(2):
        await recommend(base, session=session)
    same: list[float] = []
    for _ in range(runs):
        t = time.perf_counter()
        await recommend(base, session=session)
        same.append((time.perf_counter() - t) * 1e3)
    varied: list[float] = []
    for i in range(runs):
        users = 500 + 997 * i  # a different load each time: no prediction is reused
        spec = base.edit(concurrent_users=users, expected_qps=users * 0.1 * 2 / 60)
        t = time.perf_counter()
        await recommend(spec, session=session)
        varied.append((time.perf_counter() - t) * 1e3)
    out = {
        "catalog": label,
        "request": request,
        "options": len(first.options),
        "configurations": first.candidates_considered,
        "first_ms": round(first_ms, 1),
        "same_p50_ms": round(statistics.median(same), 1),
        "same_p95_ms": round(pct(same, 0.95), 1),
        "varied_p50_ms": round(statistics.median(varied), 1),
        "varied_p95_ms": round(pct(varied, 0.95), 1),
        "timings_last_ms": first.timings_ms,
    }
    return out


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


async def main(runs: int, requests: list[str], outcomes: int = 0) -> None:
    from db.session import dispose_engine, get_engine

    engine = await get_engine()
    load_before = loadavg()
    results = []
    for factor, label in ((1, "seeded"), (10, "10x")):
        async with engine.connect() as conn:
            outer = await conn.begin()
            session = AsyncSession(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            try:
                if factor > 1:
                    await grow_catalog(session, factor)
                    await session.flush()
                for request in requests if outcomes else []:
                    await add_outcomes(session, request, outcomes)
                for request in requests:
                    results.append(await measure(session, runs, label, request))
            finally:
                await session.close()
                await outer.rollback()
    await dispose_engine()
    targets = {"seeded": 300.0, "10x": 2000.0}
    print(f"load average before: {load_before}; after: {loadavg()}; stored outcomes per request: {outcomes}")
    for r in results:
        limit = targets[r["catalog"]]
        worst = max(r["same_p95_ms"], r["varied_p95_ms"])
        verdict = "PASS" if worst < limit else "FAIL"
        print(
            f"{r['catalog']:>6} catalog, {r['configurations']} configurations, {r['request']!r} "
            f"({r['options']} options): first {r['first_ms']} ms; "
            f"repeated p50 {r['same_p50_ms']} / p95 {r['same_p95_ms']} ms; "
            f"varied load p50 {r['varied_p50_ms']} / p95 {r['varied_p95_ms']} ms  "
            f"[target p95 < {limit:.0f} ms: {verdict}]"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--request", action="append", help="request in words (repeatable)")
    parser.add_argument("--outcomes", type=int, default=0, help="store N observed outcomes per request first")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.request or list(REQUESTS), args.outcomes))
