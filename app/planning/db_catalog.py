"""The planner's catalog, measured rows and calibration, backed by Postgres.

``load_db_catalog`` reads every model and GPU once into a ``DbCatalog`` (a ``CatalogSource``: the maths stay
pure and fast). ``measured_points`` returns the closed-loop benchmark rows of one configuration for
measured-first predictions. ``ensure_calibration`` fits the efficiency factors on every benchmark row in the
database and stores the fit in ``calibrations``, keyed by a hash of the benchmark rows, so a later call
re-fits only when the benchmarks changed. The shipped ``app/perf/calibration.json`` stays the fallback.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.names import AliasIndex, AmbiguousNameError
from app.perf import calibrate as C
from app.perf.errors import UnknownGpuError, UnknownModelError
from app.perf.predict import MeasuredPoint
from app.perf.types import GpuSpec, ModelArch
from app.planning.catalog import arch_from_catalog_record, gpu_spec_from_row, load_config_file, model_aliases
from db import models as m

log = logging.getLogger(__name__)


def row_record(row: Any) -> dict[str, Any]:
    """Every column of a catalog row as a dict: the mapping functions pick the fields they need."""
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}


class DbCatalog:
    """Models and GPUs read from the database; names resolve through ``app.names.AliasIndex``."""

    def __init__(
        self, models: list[ModelArch], model_names: dict[str, list[str]], gpus: list[GpuSpec]
    ) -> None:
        self._models = {a.id: a for a in models}
        self._gpus = {g.id: g for g in gpus}
        self._model_index = AliasIndex()
        for arch in models:
            self._model_index.add(arch.id, [*model_names.get(arch.id, []), *model_aliases(arch.id)])
        self._gpu_index = AliasIndex()
        for gpu in gpus:
            self._gpu_index.add(gpu.id, gpu.aliases)

    def models(self) -> list[ModelArch]:
        return list(self._models.values())

    def gpus(self) -> list[GpuSpec]:
        return list(self._gpus.values())

    def get_model(self, alias: str) -> ModelArch:
        if alias.endswith(".json") or Path(alias).is_file():
            return load_config_file(Path(alias))
        try:
            found = self._model_index.resolve(alias)
        except AmbiguousNameError as e:
            raise UnknownModelError(f"{e}; use the full Hugging Face id") from e
        if found is None:
            raise UnknownModelError(
                f"unknown model {alias!r}; use a catalog id such as {next(iter(self._models), '...')}, "
                "an alias, or a path to a config.json"
            )
        return self._models[found]

    def get_gpu(self, alias: str) -> GpuSpec:
        try:
            found = self._gpu_index.resolve(alias)
        except AmbiguousNameError as e:
            raise UnknownGpuError(f"{e}; use the GPU id") from e
        if found is None:
            raise UnknownGpuError(f"unknown GPU {alias!r}; known GPUs: {', '.join(sorted(self._gpus))}")
        return self._gpus[found]


async def load_db_catalog(*, session: AsyncSession) -> DbCatalog:
    """Read every model and GPU row into a ``DbCatalog`` (rows the planner cannot use are logged, skipped)."""
    models: list[ModelArch] = []
    names: dict[str, list[str]] = {}
    for row in (await session.execute(select(m.Model))).scalars():
        rec = row_record(row) | {"hf_id": row.id}
        try:
            models.append(arch_from_catalog_record(rec))
        except (ValueError, KeyError, TypeError) as e:
            log.warning("skipping model %s: %s", row.id, e)
            continue
        names[row.id] = list(row.aliases or [])
    gpus: list[GpuSpec] = []
    for grow in (await session.execute(select(m.Gpu))).scalars():
        try:
            gpus.append(gpu_spec_from_row(row_record(grow)))
        except (ValueError, KeyError, TypeError) as e:
            log.warning("skipping GPU %s: %s", grow.id, e)
    return DbCatalog(models, names, gpus)


def _record(row: m.Benchmark) -> dict[str, Any]:
    """A benchmark row in the shape of serving_measurements.json (what calibrate.build_cases reads)."""
    rec: dict[str, Any] = dict(row.extra or {})
    for col in m.Benchmark.__table__.columns.keys():  # noqa: SIM118 (a ColumnCollection, not a dict)
        if col not in ("extra", "id"):
            rec[col] = getattr(row, col)
    rec.update(
        model=row.model_id,
        gpu=row.gpu_id,
        engine=row.engine_detail or row.engine,
        e2e_latency_ms_mean=row.e2e_ms_mean,
    )
    return rec


async def benchmark_records(*, session: AsyncSession) -> list[dict[str, Any]]:
    rows = (
        await session.execute(select(m.Benchmark).order_by(m.Benchmark.source, m.Benchmark.row_key))
    ).scalars()
    return [_record(r) for r in rows]


def benchmarks_hash(records: list[dict[str, Any]]) -> str:
    """Identity of a set of benchmark rows: (source, row_key) pairs (row_key hashes the row's content)."""
    h = hashlib.sha256()
    for key in sorted(f"{r.get('source')}\t{r.get('row_key')}" for r in records):
        h.update(key.encode())
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


async def stored_calibration(benchmarks_hash_: str, *, session: AsyncSession) -> C.Calibration | None:
    row = (
        await session.execute(
            select(m.Calibration)
            .where(m.Calibration.benchmarks_hash == benchmarks_hash_)
            .order_by(m.Calibration.created_at.desc(), m.Calibration.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return C.Calibration.model_validate({**row.params, "fit_stats": row.stats})


async def ensure_calibration(
    *,
    session: AsyncSession,
    catalog: DbCatalog | None = None,
    force: bool = False,
    folds: int = 2,
    iters: int = 25,
) -> tuple[C.Calibration, bool]:
    """The calibration for the benchmark rows now in the database, fitting and storing it when they changed.

    Returns (calibration, refitted). The fit runs in a worker thread (it takes tens of seconds).
    """
    records = await benchmark_records(session=session)
    digest = benchmarks_hash(records)
    if not force:
        found = await stored_calibration(digest, session=session)
        if found is not None:
            return found, False
    cat = catalog or await load_db_catalog(session=session)
    cases = C.build_cases(records, cat.get_model, cat.get_gpu)
    if not cases:
        raise C.CalibrationError("no usable benchmark rows in the database; load the seed data first")
    cal = await asyncio.to_thread(C.fit, cases, folds=folds, iters=iters)
    cal.fit_stats["benchmarks_hash"] = digest
    params = cal.model_dump(mode="json", exclude={"fit_stats"})
    session.add(m.Calibration(benchmarks_hash=digest, params=params, stats=cal.fit_stats))
    await session.flush()
    return cal, True


def _closed_loop(row: m.Benchmark) -> bool:
    """Rows measured as N concurrent clients at fixed lengths (not static batches, offline or rate runs)."""
    scenario = str((row.extra or {}).get("scenario") or "")
    notes = str(row.notes or "")
    return (
        row.concurrency is not None
        and row.request_rate is None
        and row.input_tokens is not None
        and row.output_tokens is not None
        and not scenario.startswith("offline")
        and "Static batch" not in notes
    )


def _point(rec: dict[str, Any]) -> MeasuredPoint:
    return MeasuredPoint(
        concurrency=float(rec["concurrency"]),
        input_tokens=int(rec["input_tokens"]),
        output_tokens=int(rec["output_tokens"]),
        ttft_ms=rec.get("ttft_ms_mean"),
        tpot_ms=rec.get("itl_ms_mean") or rec.get("tpot_ms_mean"),
        output_tokens_per_s=rec.get("output_tokens_per_s"),
    )


def _closed_loop_record(rec: dict[str, Any]) -> bool:
    return (
        rec.get("concurrency") is not None
        and rec.get("request_rate") is None
        and rec.get("input_tokens") is not None
        and rec.get("output_tokens") is not None
        and not str(rec.get("scenario") or "").startswith("offline")
        and "Static batch" not in str(rec.get("notes") or "")
    )


def measured_points_from_records(
    records: list[dict[str, Any]],
) -> Callable[[str, str, int, str, str], list[MeasuredPoint]]:
    """A lookup (model_id, gpu_id, tp, precision, engine) -> closed-loop points, over rows read once."""
    table: dict[tuple[str, str, int, str, str], list[MeasuredPoint]] = {}
    for rec in records:
        if not _closed_loop_record(rec):
            continue
        key = (
            str(rec["model_id"]),
            str(rec["gpu_id"]),
            int(rec["tp"]),
            str(rec["precision"]),
            C.canonical_engine(str(rec.get("engine_detail") or rec.get("engine") or "")),
        )
        table.setdefault(key, []).append(_point(rec))
    for points in table.values():
        points.sort(key=lambda p: (p.input_tokens, p.output_tokens, p.concurrency))

    def lookup(model_id: str, gpu_id: str, tp: int, precision: str, engine: str) -> list[MeasuredPoint]:
        return table.get((model_id, gpu_id, tp, precision, engine), [])

    return lookup


async def measured_points(
    model_id: str, gpu_id: str, tp: int, precision: str, engine: str, *, session: AsyncSession
) -> list[MeasuredPoint]:
    """Closed-loop benchmark rows of exactly this model, GPU, TP, precision and engine (NIM is trtllm)."""
    rows = (
        await session.execute(
            select(m.Benchmark).where(
                m.Benchmark.model_id == model_id,
                m.Benchmark.gpu_id == gpu_id,
                m.Benchmark.tp == tp,
                m.Benchmark.precision == precision,
            )
        )
    ).scalars()
    points = []
    for row in rows:
        if C.canonical_engine(row.engine_detail or row.engine) != engine or not _closed_loop(row):
            continue
        assert row.concurrency is not None and row.input_tokens is not None and row.output_tokens is not None
        points.append(
            MeasuredPoint(
                concurrency=float(row.concurrency),
                input_tokens=int(row.input_tokens),
                output_tokens=int(row.output_tokens),
                ttft_ms=row.ttft_ms_mean,
                tpot_ms=row.itl_ms_mean or row.tpot_ms_mean,
                output_tokens_per_s=row.output_tokens_per_s,
            )
        )
    # Repeated runs of one configuration: keep them all; interpolation averages neighbours in log space.
    return sorted(points, key=lambda p: (p.input_tokens, p.output_tokens, p.concurrency))
