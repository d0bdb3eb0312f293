"""Closed-loop TTFT depends on whether the clients stay in lockstep (fixed lengths) or spread out (varied)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.perf.model import raw_costs
from app.perf.predict import _simulate, default_calibration, predict
from app.perf.types import GpuSpec, LengthDist, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
ARCH = CAT.get_model("llama-3.1-8b")
H100 = CAT.get_gpu("H100-SXM-80GB")
A100 = CAT.get_gpu("A100-SXM-80GB")


def _varied(inp: int, out: int, users: int, cv: float = 0.3) -> Workload:
    spread = {"kind": "uniform", "cv": cv}
    inputs, outputs = LengthDist(mean=inp, **spread), LengthDist(mean=out, **spread)
    return Workload(input_tokens=inputs, output_tokens=outputs, concurrency=users)


def test_varied_lengths_wait_far_less_than_a_lockstep_cohort() -> None:
    fixed = predict(ARCH, H100, Workload.fixed(512, 128, concurrency=128), full=False)
    varied = predict(ARCH, H100, _varied(512, 128, 128), full=False)
    assert fixed.ttft_ms and varied.ttft_ms and fixed.e2e_ms and varied.e2e_ms
    # Spread-out prompts ride one mixed step each instead of queueing behind a cohort of prompts.
    assert varied.ttft_ms.mean < 0.3 * fixed.ttft_ms.mean
    assert varied.ttft_ms.mean < 150.0
    # Throughput and E2E come from Little's law and do not depend on the phase of the clients.
    assert varied.output_tokens_per_s == pytest.approx(fixed.output_tokens_per_s, rel=1e-6)
    assert varied.e2e_ms.mean == pytest.approx(fixed.e2e_ms.mean, rel=1e-6)


@pytest.mark.parametrize(("gpu", "users"), [(A100, 16), (H100, 4), (H100, 32), (H100, 128)])
def test_varied_closed_loop_ttft_agrees_with_the_event_simulation(gpu: GpuSpec, users: int) -> None:
    """The closed form against the planner's own discrete-event simulation of the same step model.

    The simulation admits a re-sent prompt exactly at a step boundary (no HTTP in between), so the closed
    form's per-request overhead and mean residual step are taken off before comparing.
    """
    cal = default_calibration()
    f = cal.factors(gpu.id, gpu.family, "vllm")
    raw = raw_costs(ARCH, gpu, 1, "bf16", 2.0)
    work = _varied(512, 128, users)
    pred = predict(ARCH, gpu, work, full=False)
    sim = _simulate(raw, f, work, float(users), 8192, 0)
    assert pred.ttft_ms and pred.itl_ms
    engine_ttft = pred.ttft_ms.mean - float(f.request_overhead_ms) - 0.5 * pred.itl_ms.mean
    assert engine_ttft == pytest.approx(float(np.mean(sim.ttft_ms)), rel=0.3)
    sim_itl = float((sim.itl_values * sim.itl_weights).sum() / sim.itl_weights.sum())
    assert pred.itl_ms.mean == pytest.approx(sim_itl, rel=0.15)


def test_a_token_of_spread_breaks_the_lockstep() -> None:
    fixed = predict(ARCH, H100, Workload.fixed(512, 128, concurrency=64), full=False)
    tiny = predict(ARCH, H100, _varied(512, 128, 64, cv=0.001), full=False)
    wide = predict(ARCH, H100, _varied(512, 128, 64, cv=0.1), full=False)
    assert fixed.ttft_ms and tiny.ttft_ms and wide.ttft_ms
    assert tiny.ttft_ms.mean == pytest.approx(fixed.ttft_ms.mean, rel=0.03)
    assert wide.ttft_ms.mean < 0.3 * fixed.ttft_ms.mean


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c1=st.integers(1, 200), extra=st.integers(1, 200), inp=st.integers(16, 4000), out=st.integers(2, 1000))
def test_varied_closed_loop_monotone_in_concurrency(c1: int, extra: int, inp: int, out: int) -> None:
    a = predict(ARCH, H100, _varied(inp, out, c1), full=False)
    b = predict(ARCH, H100, _varied(inp, out, c1 + extra), full=False)
    assert a.ttft_ms and b.ttft_ms and a.tpot_ms and b.tpot_ms and a.e2e_ms and b.e2e_ms
    assert 0 < a.ttft_ms.mean <= b.ttft_ms.mean * 1.001
    assert b.tpot_ms.mean >= a.tpot_ms.mean * 0.999
    assert b.e2e_ms.mean >= a.e2e_ms.mean * 0.999
