"""Outcome corrections move predictions toward what deployments observed, without overreacting."""

from __future__ import annotations

import pytest

from app.perf.corrections import OutcomeCorrection, apply_outcome_corrections
from app.perf.predict import predict
from app.perf.types import Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
PRED = predict(CAT.get_model("llama-3.1-8b"), CAT.get_gpu("H100"), Workload.fixed(1000, 200, concurrency=16))


def test_no_outcomes_leave_the_prediction_alone() -> None:
    assert apply_outcome_corrections(PRED, []) == PRED
    assert PRED.corrected_by_outcomes == 0


def test_one_noisy_outcome_moves_the_prediction_only_part_way() -> None:
    out = apply_outcome_corrections(PRED, [OutcomeCorrection(throughput_ratio=10.0)])
    assert PRED.output_tokens_per_s is not None and out.output_tokens_per_s is not None
    ratio = out.output_tokens_per_s / PRED.output_tokens_per_s
    assert 1.0 < ratio < 1.5  # clipped to 3x, then shrunk toward the fit
    assert out.corrected_by_outcomes == 1
    assert out.ttft_ms == PRED.ttft_ms  # metrics without outcomes are untouched


def test_many_consistent_outcomes_converge_on_the_observed_ratio() -> None:
    many = [OutcomeCorrection(tpot_ratio=1.2, ttft_ratio=0.9) for _ in range(60)]
    out = apply_outcome_corrections(PRED, many)
    assert out.tpot_ms is not None and PRED.tpot_ms is not None and out.itl_ms is not None
    assert out.tpot_ms.p90 / PRED.tpot_ms.p90 == pytest.approx(1.2, rel=0.02)
    assert out.ttft_ms is not None and PRED.ttft_ms is not None
    assert out.ttft_ms.mean / PRED.ttft_ms.mean == pytest.approx(0.9, rel=0.02)
    assert out.interval is not None and PRED.interval is not None
    assert out.interval.tpot_ms[1] > PRED.interval.tpot_ms[1]
    assert out.corrected_by_outcomes == 60
