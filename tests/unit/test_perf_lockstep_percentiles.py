"""Closed loops with fixed lengths: percentiles show the spread within a lockstep cohort, means stay put.

Clients with identical lengths arrive together each round; chunked prefill serves their prompts first come
first served in chunks of the token budget, so the first requests get their first token after one step and
the last after ``cohort tokens / budget`` steps. Percentiles must show that spread (not the mean copied into
every percentile), while the means remain the calibrated closed form's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.perf.model import raw_costs
from app.perf.predict import _simulate, default_calibration, predict
from app.perf.types import ModelArch, Stats, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
H100 = CAT.get_gpu("H100-SXM-80GB")
LLAMA_8B = CAT.get_model("llama-3.1-8b")
LLAMA_70B = CAT.get_model("llama-3.1-70b")
BUDGET = 8192


def _ordered(s: Stats) -> bool:
    return 0 <= s.p50 <= s.p90 <= s.p95 <= s.p99


@pytest.mark.parametrize(("arch", "tp"), [(LLAMA_70B, 4), (LLAMA_8B, 1)])
def test_a_lockstep_cohort_spreads_ttft_and_keeps_the_calibrated_means(arch: ModelArch, tp: int) -> None:
    work = Workload.fixed(1000, 200, concurrency=32)
    full = predict(arch, H100, work, tp=tp, max_num_batched_tokens=BUDGET)
    screen = predict(arch, H100, work, tp=tp, max_num_batched_tokens=BUDGET, full=False)
    assert full.ttft_ms and full.tpot_ms and full.itl_ms and full.e2e_ms
    assert screen.ttft_ms and screen.tpot_ms and screen.e2e_ms
    # 32 prompts of 1000 tokens take 4 chunks of 8192: the last quarter waits about four steps.
    assert full.ttft_ms.p90 / full.ttft_ms.p50 > 1.2
    # The requests that decode through the later chunks have a slower TPOT than those that came last.
    assert full.tpot_ms.p90 > 1.05 * full.tpot_ms.p50
    assert full.e2e_ms.p99 > full.e2e_ms.p50
    pairs = ((full.ttft_ms, screen.ttft_ms), (full.tpot_ms, screen.tpot_ms), (full.e2e_ms, screen.e2e_ms))
    for got, want in pairs:
        assert got.mean == pytest.approx(want.mean, rel=1e-9)
        assert _ordered(got)
    assert full.output_tokens_per_s == pytest.approx(screen.output_tokens_per_s, rel=1e-9)


def test_the_cohort_round_finishes_prefill_chunk_by_chunk() -> None:
    cal = default_calibration()
    f = cal.factors(H100.id, H100.family, "vllm")
    raw = raw_costs(LLAMA_70B, H100, 4, "bf16", 2.0)
    sim = _simulate(raw, f, Workload.fixed(1000, 200, concurrency=32), 32.0, BUDGET, 0)
    steps = np.unique(np.round(sim.ttft_ms, 3))
    assert len(steps) == math.ceil(32 * 1000 / BUDGET)
    # Each later chunk adds about one prefill step: TTFT climbs roughly linearly across the cohort.
    assert steps[-1] / steps[0] == pytest.approx(4.0, rel=0.25)


def test_itl_spikes_on_the_steps_that_carry_prefill_chunks() -> None:
    pred = predict(LLAMA_8B, H100, Workload.fixed(1000, 200, concurrency=64), max_num_batched_tokens=BUDGET)
    assert pred.itl_ms
    assert pred.itl_ms.p99 > 3.0 * pred.itl_ms.p50


@pytest.mark.parametrize("users", [1, 8])
def test_a_cohort_that_fits_one_step_is_deterministic(users: int) -> None:
    # One client, or 8 prompts of 1000 tokens within one 8192-token step: every request sees the same steps.
    work = Workload.fixed(1000, 200, concurrency=users)
    pred = predict(LLAMA_8B, H100, work, max_num_batched_tokens=BUDGET)
    assert pred.ttft_ms and pred.tpot_ms
    assert pred.ttft_ms.p99 == pytest.approx(pred.ttft_ms.p50, rel=1e-6)
    assert pred.tpot_ms.p99 == pytest.approx(pred.tpot_ms.p50, rel=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(users=st.integers(1, 200), inp=st.integers(16, 6000), out=st.integers(2, 600))
def test_lockstep_percentiles_are_ordered_and_spread_when_prefill_takes_several_steps(
    users: int, inp: int, out: int
) -> None:
    pred = predict(LLAMA_8B, H100, Workload.fixed(inp, out, concurrency=users), max_num_batched_tokens=BUDGET)
    assert pred.ttft_ms and pred.itl_ms and pred.tpot_ms and pred.e2e_ms
    for s in (pred.ttft_ms, pred.itl_ms, pred.tpot_ms, pred.e2e_ms):
        assert _ordered(s)
    if users > 1 and users * inp > BUDGET:
        # More than one chunk: the cohort's first tokens come at different steps.
        t = pred.ttft_ms
        assert max(t.p50, t.p90, t.p95, t.p99) > 1.01 * min(t.mean, t.p50)
