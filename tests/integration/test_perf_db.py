"""The planner's database layer: catalog with aliases, measured-first predictions, stored calibrations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.perf import calibrate as C
from app.perf.errors import UnknownGpuError, UnknownModelError
from app.perf.predict import predict
from app.perf.types import Workload
from app.planning.db_catalog import ensure_calibration, load_db_catalog, measured_points
from db import models as m

pytestmark = pytest.mark.integration

NIM_8B = "meta-llama/Meta-Llama-3-8B-Instruct"


async def test_catalog_resolves_aliases_and_refuses_unknown_names(session: Any) -> None:
    cat = await load_db_catalog(session=session)
    assert cat.get_gpu("H100-SXM-80GB").id == "H100-SXM-80GB"
    assert cat.get_gpu("H100 SXM").id == "H100-SXM-80GB"
    assert cat.get_gpu("A100-80GB").id == "A100-SXM-80GB"
    assert cat.get_model("llama-3.1-8b").num_hidden_layers == 32
    with pytest.raises(UnknownGpuError):
        cat.get_gpu("TPU-v9")
    with pytest.raises(UnknownModelError):
        cat.get_model("no-such-model-7b")


async def test_measured_rows_come_first(session: Any) -> None:
    cat = await load_db_catalog(session=session)
    model_id = cat.get_model(NIM_8B).id
    points = await measured_points(model_id, "H100-SXM-80GB", 1, "fp8", "trtllm", session=session)
    assert points, "the seed has NIM closed-loop rows for Llama-3-8B on H100 at fp8"
    row = next(p for p in points if p.input_tokens == 200 and p.output_tokens == 200 and p.concurrency == 50)
    arch, gpu = cat.get_model(model_id), cat.get_gpu("H100")
    exact = predict(
        arch, gpu, Workload.fixed(200, 200, concurrency=50), precision="fp8", engine="trtllm", measured=points
    )
    assert exact.basis == "measured"
    assert exact.tpot_ms is not None and row.tpot_ms is not None
    assert exact.tpot_ms.mean == pytest.approx(row.tpot_ms, rel=1e-6)
    between = predict(
        arch, gpu, Workload.fixed(200, 200, concurrency=70), precision="fp8", engine="trtllm", measured=points
    )
    assert between.basis == "interpolated"
    outside = predict(
        arch, gpu, Workload.fixed(300, 200, concurrency=70), precision="fp8", engine="trtllm", measured=points
    )
    assert outside.basis == "estimated"
    # vLLM rows of the same configuration do not exist: nothing measured for that engine.
    assert await measured_points(model_id, "H100-SXM-80GB", 1, "fp8", "vllm", session=session) == []


async def test_calibration_is_stored_and_refitted_only_when_benchmarks_change(session: Any) -> None:
    first, refitted = await ensure_calibration(session=session, folds=0, iters=2)
    assert refitted and first.n_records > 3000
    again, refitted_again = await ensure_calibration(session=session, folds=0, iters=2)
    assert not refitted_again
    assert again.global_bw_eff == pytest.approx(first.global_bw_eff)
    count = (await session.execute(select(func.count()).select_from(m.Calibration))).scalar_one()
    # A benchmark row changes: the hash changes and the next call fits again.
    bench = (await session.execute(select(m.Benchmark).limit(1))).scalar_one()
    await session.delete(bench)
    await session.flush()
    _, refitted_after_change = await ensure_calibration(session=session, folds=0, iters=2)
    assert refitted_after_change
    assert (await session.execute(select(func.count()).select_from(m.Calibration))).scalar_one() == count + 1
    assert isinstance(first, C.Calibration)
