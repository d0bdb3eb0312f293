"""Bursts (all requests at once) have terms of their own that cannot move what moderate loads predict."""

from __future__ import annotations

import pytest

from app.perf.calibrate import Calibration
from app.perf.predict import default_calibration, predict
from app.perf.types import Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
ARCH = CAT.get_model("llama-3.1-8b")
GPU = CAT.get_gpu("H100-SXM-80GB")
SHIPPED = default_calibration()


def _with(**terms: float) -> Calibration:
    return SHIPPED.model_copy(update=terms)


def test_shipped_calibration_carries_fitted_burst_terms() -> None:
    # Fitted on the GPUStack bursts: tens of microseconds per stream and step, prefill slower than roofline.
    assert 0.01 < SHIPPED.burst_seq_ms < 0.5
    assert 1.0 < SHIPPED.burst_prefill_mult < 4.0


def test_burst_terms_slow_a_burst_of_a_thousand_requests() -> None:
    burst = Workload.fixed(220, 200, concurrency=1000, scenario="burst")
    plain = predict(ARCH, GPU, burst, calibration=_with(burst_seq_ms=0.0, burst_prefill_mult=1.0))
    shipped = predict(ARCH, GPU, burst, calibration=SHIPPED)
    assert plain.tpot_ms is not None and shipped.tpot_ms is not None
    assert shipped.tpot_ms.mean > 1.2 * plain.tpot_ms.mean
    assert (shipped.output_tokens_per_s or 0) < 0.85 * (plain.output_tokens_per_s or 0)


@pytest.mark.parametrize(
    "workload",
    [
        Workload.fixed(1000, 200, concurrency=64),
        Workload.fixed(1000, 200, request_rate=10.0),
        Workload.fixed(1000, 200, concurrency=256, scenario="offline"),
    ],
    ids=["closed loop", "open loop", "offline"],
)
def test_burst_terms_leave_other_scenarios_unchanged(workload: Workload) -> None:
    plain = predict(ARCH, GPU, workload, calibration=_with(burst_seq_ms=0.0, burst_prefill_mult=1.0))
    heavy = predict(ARCH, GPU, workload, calibration=_with(burst_seq_ms=1.0, burst_prefill_mult=3.0))
    assert plain.tpot_ms is not None and heavy.tpot_ms is not None
    assert plain.ttft_ms is not None and heavy.ttft_ms is not None
    assert heavy.tpot_ms.mean == plain.tpot_ms.mean
    assert heavy.ttft_ms.mean == plain.ttft_ms.mean
    assert heavy.output_tokens_per_s == plain.output_tokens_per_s
