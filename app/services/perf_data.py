"""The performance model's data from Postgres: `preflight predict --db` and `preflight calibrate`.

Reading the catalog, the measured rows and the stored calibration is open to anyone (it is the catalog
the planner uses); refitting and storing a calibration changes every later prediction, so it is for
administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.errors import Forbidden, Invalid
from app.perf import calibrate as C
from app.planning.db_catalog import (
    DbCatalog,
    benchmark_records,
    benchmarks_hash,
    ensure_calibration,
    load_db_catalog,
    measured_points_from_records,
    stored_calibration,
)
from app.services.context import Context


@dataclass(frozen=True)
class PredictionInputs:
    catalog: DbCatalog
    calibration: C.Calibration | None  # None: none stored for the current rows (the bundled one applies)
    measured: Callable[..., Any]


async def prediction_inputs(ctx: Context) -> PredictionInputs:
    """Catalog, stored calibration and measured rows, read once for a batch of predictions."""
    catalog = await load_db_catalog(session=ctx.session)
    records = await benchmark_records(session=ctx.session)
    cal = await stored_calibration(benchmarks_hash(records), session=ctx.session)
    return PredictionInputs(catalog, cal, measured_points_from_records(records))


class CalibrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = False
    folds: int = Field(default=2, ge=0, le=20, description="0 or 1: no inner folds (no interval bands)")
    iters: int = Field(default=25, ge=1, le=500)


async def calibrate(req: CalibrateRequest, ctx: Context) -> tuple[C.Calibration, bool]:
    """Fit on every benchmark row and store it (unless stored for these rows and not ``force``); whether it
    was refitted."""
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can refit the performance model (it changes every prediction)")
    try:
        return await ensure_calibration(
            session=ctx.session, force=req.force, folds=req.folds, iters=req.iters
        )
    except ValueError as e:  # e.g. too few rows to fit
        raise Invalid(str(e)) from e
