"""Correction factors with shrinkage toward the global fit, applied to a prediction; advice; goodput."""

from __future__ import annotations

import math

import pytest
from test_observe_metrics import FakeVllm  # same folder (pytest prepends it to sys.path)

from app.observe.advice import PlanFacts, advise
from app.observe.learning import (
    PRIOR_STRENGTH,
    OutcomeRatios,
    apply_corrections,
    correction_factors,
    outcome_ratios,
)
from app.observe.loadtest import LoadTestConfig, RequestRecord, summarize
from app.observe.metrics import WindowStats, parse_metrics, window_stats
from app.observe.slo import parse_slo
from app.perf.types import Prediction, Stats

pytestmark = pytest.mark.unit
KEY = ("llama-8b", "H100", "vllm")


def _outcome(tpot_ratio: float, thr_ratio: float = 1.0, key: tuple[str, str, str] = KEY) -> OutcomeRatios:
    predicted = {"tpot_ms": {"mean": 10.0}, "output_tokens_per_s": 1000.0}
    observed = {"tpot_ms": {"mean": 10.0 * tpot_ratio}, "output_tokens_per_s": 1000.0 * thr_ratio}
    return outcome_ratios(observed, predicted, key)


def test_no_outcome_no_correction() -> None:
    c = correction_factors([], *KEY)
    assert (c.ttft, c.tpot, c.throughput, c.n_outcomes) == (1.0, 1.0, 1.0, 0)


def test_one_outcome_moves_part_of_the_way() -> None:
    c = correction_factors([_outcome(2.0, 0.5)], *KEY)
    # Shrunk toward the calibrated fit as if it were worth PRIOR_STRENGTH agreeing outcomes.
    expected = math.exp(math.log(2.0) / (1 + PRIOR_STRENGTH))
    assert c.tpot == pytest.approx(expected, rel=1e-5)
    assert 1.0 < c.tpot < 1.5  # toward 2x, but one noisy outcome cannot swing it there
    assert c.throughput == pytest.approx(1 / expected, rel=1e-5)
    assert c.ttft == 1.0  # not measured by that outcome: unchanged
    assert c.n_outcomes == 1


def test_many_consistent_outcomes_converge() -> None:
    c = correction_factors([_outcome(2.0) for _ in range(30)], *KEY)
    assert c.tpot > 1.8


def test_outlier_is_clipped() -> None:
    c = correction_factors([_outcome(100.0)], *KEY)
    assert c.tpot == pytest.approx(3.0 ** (1 / (1 + PRIOR_STRENGTH)), rel=1e-5)


def test_only_the_configurations_own_outcomes_count() -> None:
    others = [_outcome(2.0, key=("qwen-7b", "L40S", "vllm")) for _ in range(10)]
    assert correction_factors(others, *KEY).n_outcomes == 0
    assert correction_factors(others, *KEY).tpot == 1.0
    assert correction_factors(others, "QWEN-7B", "l40s", "vllm").n_outcomes == 10


def test_applied_through_the_planner_and_to_option_dicts_alike() -> None:
    pred = Prediction(
        fits=True,
        ttft_ms=Stats.constant(100.0),
        itl_ms=Stats.constant(10.0),
        tpot_ms=Stats.constant(10.0),
        e2e_ms=Stats.constant(1000.0),
        output_tokens_per_s=1000.0,
        requests_per_s=5.0,
    )
    c = correction_factors([_outcome(2.0, 0.5) for _ in range(5)], *KEY)
    out = apply_corrections(pred, c)  # the planner's apply_outcome_corrections
    assert out.corrected_by_outcomes == 5
    # The factors reported here are the ones the planner applied.
    assert out.tpot_ms is not None and out.tpot_ms.p90 == pytest.approx(10.0 * c.tpot)
    assert out.itl_ms is not None and out.itl_ms.mean == pytest.approx(10.0 * c.tpot)
    assert out.output_tokens_per_s == pytest.approx(1000.0 * c.throughput)
    as_dict = apply_corrections(pred.model_dump(), c)
    assert as_dict["corrected_by_outcomes"] == 5
    assert as_dict["tpot_ms"]["p90"] == pytest.approx(out.tpot_ms.p90)
    assert out.e2e_ms is not None and as_dict["e2e_ms"]["mean"] == pytest.approx(out.e2e_ms.mean)


def _stats(requests: int, ttft_s: float, seconds: float = 60.0) -> WindowStats | None:
    v = FakeVllm()
    a = parse_metrics(v.text(), 0.0)
    v.serve(requests, ttft_s, 0.02, tokens=100)
    return window_stats({"r": [a, parse_metrics(v.text(), seconds)]})


def test_advice_scale_in_scale_out_and_drift() -> None:
    from app.observe.slo import compliance_from_values

    plan = PlanFacts(
        replicas=4,
        gpu_id="H100-SXM-80GB",
        capacity_rps_per_replica=5.0,
        hourly_usd_per_replica=3.0,
        expected_qps=1.0,
        peak_qps=2.0,
        prompt_tokens_avg=100,
        output_tokens_avg=100,
    )
    calm = _stats(60, 0.05)  # 1 req/s on 4 replicas sized for 5 each, TTFT far under target
    ok = compliance_from_values({"ttft": [50.0] * 10}, [parse_slo("ttft_p90_ms", 500)])
    kinds = {a.kind: a for a in advise(calm, ok, plan)}
    assert "scale_in" in kinds and kinds["scale_in"].suggested_replicas == 1
    assert kinds["scale_in"].saving_usd_month == pytest.approx(3 * 3.0 * 730)
    hot = _stats(600, 0.9)  # 10 req/s: drift from 1 planned, and TTFT over target
    bad = compliance_from_values({"ttft": [900.0] * 10}, [parse_slo("ttft_p90_ms", 500)])
    kinds = {a.kind: a for a in advise(hot, bad, plan)}
    assert kinds["scale_out"].severity == "critical" and (kinds["scale_out"].suggested_replicas or 0) > 4
    assert "next_gpu" in kinds and kinds["next_gpu"].suggested_gpu == "H200-SXM-141GB"
    assert "drift" in kinds and "re-plan" in kinds["drift"].message.lower()


def test_goodput_is_the_share_meeting_every_slo() -> None:
    recs = []
    for i in range(10):
        r = RequestRecord(sent=0.0, prompt_tokens=10, first_token=0.1 if i < 8 else 0.5, output_tokens=11)
        r.end = r.first_token + 10 * (0.02 if i % 2 == 0 else 0.06)  # type: ignore[operator]
        recs.append(r)
    recs.append(RequestRecord(sent=0.0, prompt_tokens=10, end=0.1, error="HTTP 503"))
    cfg = LoadTestConfig(
        endpoint="http://x", concurrency=1, slos=[parse_slo("ttft_p90_ms", 200), parse_slo("tpot_p90_ms", 50)]
    )
    rep = summarize(recs, cfg, "m", rate=None, conc=1, profile="concurrency")
    # good: TTFT 100 ms and TPOT 20 ms -> i in {0, 2, 4, 6}; the error is never good
    assert rep.goodput == pytest.approx(4 / 11)
    assert rep.errors == 1 and rep.error_rate == pytest.approx(1 / 11)
    assert rep.tpot_ms.p50 is not None
