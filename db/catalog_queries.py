"""SQL over the knowledge base for the recommender: candidate generation, rows, prices, benchmarks, names.

Candidates are generated in SQL over models × gpus × prices: approved, ``role = 'recommendable'`` models that
support the task (and, optionally, carry a licence), crossed with the GPUs the person allows and does not
exclude, that have a price of the kind the deployment needs (rental rows from the named provider, or
purchase rows), one row per precision the model ships in that the GPU can run (fp8 needs fp8 tensor cores).
Whether a candidate *fits* is not decided here: the performance model's memory check is the one source of
truth for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.names import AliasIndex
from db import models as m


@dataclass(frozen=True)
class CandidateFilter:
    task_type: str
    allowed_gpus: tuple[str, ...] = ()  # empty: any
    excluded_gpus: tuple[str, ...] = ()
    price_kinds: tuple[str, ...] | None = ("on_demand", "list_per_gpu_hour")  # None: no price needed (owned)
    provider: str | None = None
    require_license: bool = False
    model_ids: tuple[str, ...] = ()  # empty: any (used to restrict to a list of models)


_CANDIDATES_SQL = """
SELECT mo.id AS model_id, g.id AS gpu_id, p.precision AS precision
FROM models AS mo
CROSS JOIN LATERAL unnest(mo.precisions) AS p(precision)
CROSS JOIN gpus AS g
WHERE mo.approved
  AND mo.role = 'recommendable'
  AND :task = ANY(mo.supported_tasks)
  AND (NOT :require_license OR mo.license IS NOT NULL)
  AND (cardinality(CAST(:model_ids AS text[])) = 0 OR mo.id = ANY(CAST(:model_ids AS text[])))
  AND (cardinality(CAST(:allowed AS text[])) = 0 OR g.id = ANY(CAST(:allowed AS text[])))
  AND NOT (g.id = ANY(CAST(:excluded AS text[])))
  AND (p.precision <> 'fp8' OR g.fp8_tflops IS NOT NULL)
  AND (p.precision <> 'mxfp4' OR g.bf16_tflops IS NOT NULL)
  AND (p.precision <> 'fp16' OR NOT ('bf16' = ANY(mo.precisions)) OR g.bf16_tflops IS NULL)
  AND (p.precision <> 'bf16' OR g.bf16_tflops IS NOT NULL OR NOT ('fp16' = ANY(mo.precisions)))
  AND (
    CAST(:kinds AS text[]) IS NULL
    OR EXISTS (
      SELECT 1 FROM prices AS pr
      WHERE pr.gpu_id = g.id
        AND pr.kind = ANY(CAST(:kinds AS text[]))
        AND (pr.usd_per_gpu_hour IS NOT NULL OR pr.usd_purchase IS NOT NULL)
        AND (CAST(:provider AS text) IS NULL OR lower(pr.provider) = lower(CAST(:provider AS text))
             OR pr.kind = 'purchase')
    )
  )
ORDER BY mo.id, g.id, p.precision
"""


async def candidate_configs(f: CandidateFilter, *, session: AsyncSession) -> list[tuple[str, str, str]]:
    """(model id, GPU id, precision) triples that pass the catalog filters. bf16 and fp16 are one choice:
    bf16 where the GPU has it, fp16 otherwise."""
    rows = await session.execute(
        text(_CANDIDATES_SQL),
        {
            "task": f.task_type,
            "require_license": f.require_license,
            "model_ids": list(f.model_ids),
            "allowed": list(f.allowed_gpus),
            "excluded": list(f.excluded_gpus),
            "kinds": list(f.price_kinds) if f.price_kinds is not None else None,
            "provider": f.provider,
        },
    )
    return [(r.model_id, r.gpu_id, r.precision) for r in rows]


async def excluded_models(task_type: str, *, session: AsyncSession) -> list[tuple[str, str]]:
    """Recommendable models the catalog rules out for this task, with why (for the rejected list)."""
    rows = await session.execute(
        text(
            "SELECT id, approved, license, :task = ANY(supported_tasks) AS supports FROM models "
            "WHERE role = 'recommendable' AND (NOT approved OR NOT (:task = ANY(supported_tasks))) "
            "ORDER BY id"
        ),
        {"task": task_type},
    )
    out: list[tuple[str, str]] = []
    for r in rows:
        if not r.approved:
            out.append((r.id, f"not approved for use (licence: {r.license or 'unknown'})"))
        else:
            out.append((r.id, f"not suited to {task_type} in the catalog"))
    return out


async def load_models(ids: Sequence[str], *, session: AsyncSession) -> list[m.Model]:
    if not ids:
        return []
    from sqlalchemy import select

    return list((await session.execute(select(m.Model).where(m.Model.id.in_(list(ids))))).scalars())


async def load_all_models(*, session: AsyncSession, recommendable_only: bool = True) -> list[m.Model]:
    from sqlalchemy import select

    stmt = select(m.Model)
    if recommendable_only:
        stmt = stmt.where(m.Model.role == "recommendable")
    return list((await session.execute(stmt)).scalars())


async def model_versions(*, session: AsyncSession) -> list[tuple[str, object]]:
    """(id, updated_at) of the recommendable models: a cheap key for caches built from their rows."""
    rows = await session.execute(
        text("SELECT id, updated_at FROM models WHERE role = 'recommendable' ORDER BY id")
    )
    return [(r.id, r.updated_at) for r in rows]


async def load_gpus(ids: Sequence[str] | None = None, *, session: AsyncSession) -> list[m.Gpu]:
    from sqlalchemy import select

    stmt = select(m.Gpu)
    if ids is not None:
        stmt = stmt.where(m.Gpu.id.in_(list(ids)))
    return list((await session.execute(stmt)).scalars())


async def load_prices(gpu_ids: Sequence[str], *, session: AsyncSession) -> list[m.Price]:
    from sqlalchemy import select

    if not gpu_ids:
        return []
    return list((await session.execute(select(m.Price).where(m.Price.gpu_id.in_(list(gpu_ids))))).scalars())


async def load_benchmarks(pairs: Sequence[tuple[str, str]], *, session: AsyncSession) -> list[m.Benchmark]:
    """Benchmark rows of these (model, GPU) pairs, for measured-first predictions."""
    if not pairs:
        return []
    from sqlalchemy import select, tuple_

    stmt = select(m.Benchmark).where(tuple_(m.Benchmark.model_id, m.Benchmark.gpu_id).in_(list(pairs)))
    return list((await session.execute(stmt)).scalars())


async def providers(*, session: AsyncSession) -> list[str]:
    rows = await session.execute(
        text("SELECT DISTINCT provider FROM prices WHERE kind <> 'purchase' ORDER BY 1")
    )
    return [r[0] for r in rows]


async def name_indexes(*, session: AsyncSession) -> tuple[AliasIndex, AliasIndex]:
    """Alias indexes of model and GPU names (the one name-matching rule, app.names)."""
    models = AliasIndex()
    for mid, aliases in await session.execute(text("SELECT id, aliases FROM models")):
        models.add(mid, [*(aliases or []), mid.split("/")[-1]])
    gpus = AliasIndex()
    for gid, aliases in await session.execute(text("SELECT id, aliases FROM gpus")):
        gpus.add(gid, list(aliases or []))
    return models, gpus
