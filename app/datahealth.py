"""Data health of the knowledge base: what would make a recommendation wrong (errors) or weaker (warnings).

The report is ``{"errors": [...], "warnings": [...], "counts": {table: rows}}``; each problem is
``{code, message, object}``. Row-level findings that share a cause are grouped (one warning per source, not
one per row) so the report stays readable.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from db import models as m

_PERCENTILE_CHAINS = [
    ("ttft_ms", ("p50", "p90", "p95", "p99")),
    ("itl_ms", ("p50", "p95")),
    ("tpot_ms", ("p50", "p99")),
    ("e2e_ms", ("mean_unused", "p95")),
]


class Problem(BaseModel):
    code: str
    message: str
    object: str


class HealthReport(BaseModel):
    errors: list[Problem]
    warnings: list[Problem]
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.errors


def benchmark_impossibilities(v: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for values no real measurement can have."""
    out: list[tuple[str, str]] = []
    tp, count = v.get("tp"), v.get("gpu_count")
    pp = v.get("pp") or 1
    if tp is not None and count is not None and tp * pp > count:
        out.append(("tp", f"TP {tp} x PP {pp} is more than the {count} GPUs used"))
    for metric, order in _PERCENTILE_CHAINS:
        present = [(p, v.get(f"{metric}_{p}")) for p in order]
        known = [(p, x) for p, x in present if x is not None]
        for (p1, x1), (p2, x2) in pairwise(known):
            if x2 < x1 * 0.999:  # allow rounding in published tables
                out.append((f"{metric}_{p2}", f"{p2} ({x2}) is below {p1} ({x1})"))
    return out


def non_finite(row: Any, obj: str) -> list[Problem]:
    """An error per number that is Infinity or NaN (stored before the loader refused them, or by hand)."""
    return [
        Problem(code="non_finite_value", message=f"{col} is {value}", object=obj)
        for col, value in dict(row).items()
        if isinstance(value, float) and not math.isfinite(value)
    ]


def _parse_partial_date(text: str | None) -> date | None:
    """'2025' -> 2025-12-31, '2025-06' -> 2025-06-28, '2025-06-03' -> itself (the period's lenient end)."""
    if not text:
        return None
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        return None
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    if len(parts) == 2:
        return date(parts[0], parts[1], 28)
    return date(parts[0], parts[1], parts[2])


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


async def table_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for model in (
        m.Model,
        m.Gpu,
        m.Price,
        m.Benchmark,
        m.UseCaseTemplate,
        m.User,
        m.Recommendation,
        m.Scenario,
        m.Deployment,
        m.DeploymentOutcome,
        m.AuditLog,
    ):
        counts[model.__tablename__] = (
            await session.execute(select(func.count()).select_from(model))
        ).scalar_one()
    return counts


async def data_health(*, session: AsyncSession, settings: Settings | None = None) -> HealthReport:
    settings = settings or get_settings()
    today = datetime.now(UTC).date()
    errors: list[Problem] = []
    warnings: list[Problem] = []

    gpu_rows = (await session.execute(select(m.Gpu.__table__))).mappings().all()
    gpu_ids = {g["id"] for g in gpu_rows}
    for g in gpu_rows:
        errors.extend(non_finite(g, f"gpus/{g['id']}"))
    for row in (await session.execute(select(m.Model.__table__))).mappings().all():
        errors.extend(non_finite(row, f"models/{row['id']}"))
    model_rows = (await session.execute(select(m.Model.id, m.Model.role, m.Model.approved))).all()
    model_ids = {r.id for r in model_rows}

    # --- benchmarks ---
    bench = (await session.execute(select(m.Benchmark.__table__))).mappings().all()
    benched_models: set[str] = set()
    old_engine: dict[tuple[str, str, str], int] = defaultdict(int)
    stale_bench: dict[str, int] = defaultdict(int)
    undated_bench: dict[str, int] = defaultdict(int)
    for b in bench:
        obj = f"benchmarks/{b['id']}"
        if b["model_id"] not in model_ids:
            errors.append(
                Problem(
                    code="benchmark_unknown_model",
                    message=f"model {b['model_id']} is not in the catalog",
                    object=obj,
                )
            )
        if b["gpu_id"] not in gpu_ids:
            errors.append(
                Problem(
                    code="benchmark_unknown_gpu",
                    message=f"GPU {b['gpu_id']} is not in the catalog",
                    object=obj,
                )
            )
        errors.extend(non_finite(b, obj))
        for fld, reason in benchmark_impossibilities(dict(b)):
            errors.append(Problem(code="benchmark_impossible_value", message=f"{fld}: {reason}", object=obj))
        benched_models.add(b["model_id"])
        floor = settings.engine_version_floors.get(_floor_key(b["engine"]))
        if floor and b["engine_version"] and _version_tuple(b["engine_version"]) < _version_tuple(floor):
            old_engine[(b["source"], b["engine"], b["engine_version"])] += 1
        collected = _parse_partial_date(b["collected"])
        if collected is None:
            undated_bench[b["source"]] += 1
        elif (today - collected).days > settings.benchmark_max_age_days:
            stale_bench[b["source"]] += 1
    for (source, engine, version), n in sorted(old_engine.items()):
        floor = settings.engine_version_floors.get(_floor_key(engine))
        warnings.append(
            Problem(
                code="benchmark_engine_old",
                message=f"{n} benchmarks measured with {engine} {version}, older than the floor {floor}; "
                "newer releases are usually faster, so predictions fitted to them lean pessimistic",
                object=f"benchmarks/source={source}",
            )
        )
    for source, n in sorted(stale_bench.items()):
        warnings.append(
            Problem(
                code="benchmark_stale",
                message=f"{n} benchmarks older than {settings.benchmark_max_age_days} days",
                object=f"benchmarks/source={source}",
            )
        )
    for source, n in sorted(undated_bench.items()):
        warnings.append(
            Problem(
                code="benchmark_undated",
                message=f"{n} benchmarks have no collection date",
                object=f"benchmarks/source={source}",
            )
        )

    for r in sorted(model_rows, key=lambda r: r.id):
        if r.role == "recommendable" and r.id not in benched_models:
            warnings.append(
                Problem(
                    code="model_without_benchmarks",
                    message=f"{r.id} has no benchmarks; numbers for it are estimated by the model",
                    object=f"models/{r.id}",
                )
            )

    # --- prices ---
    prices = (await session.execute(select(m.Price.__table__))).mappings().all()
    priced_gpus: set[str] = set()
    stale_price: dict[str, int] = defaultdict(int)
    undated_price: dict[str, int] = defaultdict(int)
    for p in prices:
        obj = f"prices/{p['id']}"
        if p["gpu_id"] not in gpu_ids:
            errors.append(
                Problem(
                    code="price_unknown_gpu", message=f"GPU {p['gpu_id']} is not in the catalog", object=obj
                )
            )
        priced_gpus.add(p["gpu_id"])
        errors.extend(non_finite(p, obj))
        for col in ("usd_per_gpu_hour", "usd_per_instance_hour", "usd_purchase"):
            if p[col] is not None and p[col] <= 0:
                errors.append(
                    Problem(code="price_impossible_value", message=f"{col} is {p[col]}", object=obj)
                )
        d = _parse_partial_date(p["price_date"])
        if d is None:
            undated_price[p["source"]] += 1
        elif (today - d).days > settings.price_max_age_days:
            stale_price[p["source"]] += 1
    for source, n in sorted(undated_price.items()):
        warnings.append(
            Problem(
                code="price_undated", message=f"{n} prices state no date", object=f"prices/source={source}"
            )
        )
    for source, n in sorted(stale_price.items()):
        warnings.append(
            Problem(
                code="price_stale",
                message=f"{n} prices older than {settings.price_max_age_days} days",
                object=f"prices/source={source}",
            )
        )
    for gid in sorted(gpu_ids - priced_gpus):
        warnings.append(
            Problem(
                code="gpu_without_prices",
                message=f"{gid} has no prices; it can only be costed as owned hardware",
                object=f"gpus/{gid}",
            )
        )

    return HealthReport(errors=errors, warnings=warnings, counts=await table_counts(session))


def _floor_key(engine: str) -> str:
    return {"trtllm": "tensorrt-llm"}.get(engine, engine)
