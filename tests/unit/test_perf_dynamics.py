"""Serving dynamics: latency rises and throughput saturates with load; percentiles are ordered."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.planning.calibrate import Calibration
from app.planning.catalog import default_catalog
from app.planning.predict import predict
from app.planning.profile import performance_profile
from app.planning.types import Stats, Workload

pytestmark = pytest.mark.unit

CAT = default_catalog()
ARCH = CAT.get_model("llama-3.1-8b")
GPU = CAT.get_gpu("H100-SXM-80GB")


def _ordered(s: Stats) -> bool:
    return 0 <= s.p50 <= s.p90 <= s.p95 <= s.p99 and s.mean >= 0


def test_latency_rises_and_throughput_saturates_with_concurrency() -> None:
    preds = [predict(ARCH, GPU, Workload.fixed(1000, 200, concurrency=c)) for c in (1, 4, 16, 64, 256)]
    tpots = [p.tpot_ms.mean for p in preds if p.tpot_ms]
    thr = [p.output_tokens_per_s or 0 for p in preds]
    assert tpots == sorted(tpots)
    assert thr == sorted(thr)
    # Diminishing returns: the last 4x of users adds far less than 4x throughput.
    assert thr[-1] / thr[-2] < 2.0
    assert thr[1] / thr[0] > 2.5


def test_open_loop_saturates_past_capacity() -> None:
    low = predict(ARCH, GPU, Workload.fixed(1000, 200, request_rate=1.0))
    high = predict(ARCH, GPU, Workload.fixed(1000, 200, request_rate=500.0))
    assert not low.saturated and high.saturated
    assert high.ttft_ms and low.ttft_ms and high.ttft_ms.mean > 10 * low.ttft_ms.mean


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c1=st.integers(1, 200), extra=st.integers(1, 200), inp=st.integers(16, 4000), out=st.integers(2, 1000))
def test_monotone_in_concurrency(c1: int, extra: int, inp: int, out: int) -> None:
    a = predict(ARCH, GPU, Workload.fixed(inp, out, concurrency=c1), full=False)
    b = predict(ARCH, GPU, Workload.fixed(inp, out, concurrency=c1 + extra), full=False)
    assert a.tpot_ms and b.tpot_ms and a.e2e_ms and b.e2e_ms
    assert b.tpot_ms.mean >= a.tpot_ms.mean * 0.999
    assert b.e2e_ms.mean >= a.e2e_ms.mean * 0.999
    assert (b.output_tokens_per_s or 0) >= (a.output_tokens_per_s or 0) * 0.99


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.floats(0.1, 30.0),
    inp=st.integers(16, 3000),
    out=st.integers(2, 500),
    arrival=st.sampled_from(["poisson", "gamma"]),
)
def test_percentiles_ordered_and_non_negative(rate: float, inp: int, out: int, arrival: str) -> None:
    w = Workload.fixed(inp, out, request_rate=rate).model_copy(update={"arrival": arrival, "burstiness": 0.5})
    p = predict(ARCH, GPU, w)
    assert p.fits
    for s in (p.ttft_ms, p.itl_ms, p.tpot_ms, p.e2e_ms):
        assert s is not None and _ordered(s)
    assert (p.output_tokens_per_s or 0) > 0


@settings(max_examples=20, deadline=None)
@given(r1=st.floats(0.2, 10.0), factor=st.floats(1.2, 3.0))
def test_open_loop_monotone_in_rate(r1: float, factor: float) -> None:
    a = predict(ARCH, GPU, Workload.fixed(500, 100, request_rate=r1), full=False)
    b = predict(ARCH, GPU, Workload.fixed(500, 100, request_rate=r1 * factor), full=False)
    assert a.ttft_ms and b.ttft_ms and a.tpot_ms and b.tpot_ms
    assert b.ttft_ms.mean >= a.ttft_ms.mean * 0.999
    assert b.tpot_ms.mean >= a.tpot_ms.mean * 0.999


def test_profile_has_contract_shape() -> None:
    prof = performance_profile(ARCH, GPU, Calibration())
    assert prof["schema_version"] == 1
    assert prof["decode"]["base_ms"] > 0 and prof["prefill"]["per_token_ms"] > 0
    assert prof["kv_cache"]["tokens"] > 100_000
