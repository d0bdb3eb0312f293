"""The planner corrects configurations with observed outcomes in both passes, and its caches never mix
corrected and uncorrected results."""

from __future__ import annotations

import dataclasses

import pytest
from test_recommend_bruteforce import small_catalog, spec  # same folder (pytest prepends it to sys.path)

from app.perf.corrections import ConfigOutcomes, OutcomeCorrection, outcome_key
from app.planning.plan import Planner, PlanSettings, plan
from app.planning.result import Option, RecommendationResult
from app.planning.sizing import full_predict, screen, size_full

pytestmark = pytest.mark.unit

SLOWER = ConfigOutcomes(
    outcomes=(OutcomeCorrection(ttft_ratio=1.2, tpot_ratio=1.6, throughput_ratio=0.65),) * 2
)


def options(result: RecommendationResult) -> list[Option]:
    return [*result.options, *result.viable]


def test_factors_and_wording() -> None:
    f_ttft, f_tpot, f_thr = SLOWER.factors
    # Two outcomes against a prior worth three: 2/5 of the way in log space.
    assert f_tpot == pytest.approx(1.6**0.4)
    assert f_ttft == pytest.approx(1.2**0.4) and f_thr == pytest.approx(0.65**0.4)
    assert SLOWER.describe(" of X on Y") == (
        "corrected by 2 observed outcomes of X on Y: TTFT +8%, TPOT +21%, throughput -16%"
    )
    same = ConfigOutcomes(outcomes=(OutcomeCorrection(tpot_ratio=1.0),))
    assert same.describe() == "corrected by 1 observed outcome (no change beyond 0.5%)"


def test_screen_scales_latency_floors_and_capacity() -> None:
    catalog = small_catalog()
    planner = Planner(spec(), catalog, PlanSettings())
    cands = planner.build_candidates()
    cfg = next(c.cfg for c in cands if c.cfg.gpu_id == "L4" and c.cfg.model_id.endswith("8B-Instruct"))
    plain = screen([cfg], planner.traffic, planner.targets)
    observed = {outcome_key(cfg.model_id, cfg.gpu_id, cfg.engine): SLOWER}
    slow = screen([cfg], planner.traffic, planner.targets, outcomes=observed)
    f_ttft, f_tpot, f_thr = SLOWER.factors
    assert slow.floor_ttft_p90[0] == pytest.approx(plain.floor_ttft_p90[0] * f_ttft)
    assert slow.floor_tpot_p90[0] == pytest.approx(plain.floor_tpot_p90[0] * f_tpot)
    assert slow.capacity_rps[0] == pytest.approx(plain.capacity_rps[0] * f_thr)
    assert slow.slo_rps[0] < plain.slo_rps[0]  # fewer requests per replica pass the screened targets
    # The uncorrected screen is still what it was (the cache keys the corrected rows apart).
    assert screen([cfg], planner.traffic, planner.targets).slo_rps[0] == plain.slo_rps[0]


def test_full_model_is_corrected_after_the_physics_memo() -> None:
    catalog = small_catalog()
    planner = Planner(spec(), catalog, PlanSettings())
    cfg = next(c.cfg for c in planner.build_candidates() if c.cfg.gpu_id == "H100-SXM-80GB")
    rate = 5.0
    plain = full_predict(cfg, planner.traffic, rate)
    slow = full_predict(cfg, planner.traffic, rate, outcomes=SLOWER)
    again = full_predict(cfg, planner.traffic, rate)
    assert plain.tpot_ms is not None and slow.tpot_ms is not None and again.tpot_ms is not None
    assert slow.corrected_by_outcomes == 2 and again.corrected_by_outcomes == 0
    assert slow.tpot_ms.p90 == pytest.approx(plain.tpot_ms.p90 * SLOWER.factors[1])
    assert again.tpot_ms.p90 == plain.tpot_ms.p90
    # Verdicts: the corrected search after the uncorrected one does not reuse its "meets" verdicts.
    t = planner.targets
    tight = dataclasses.replace(t, tpot_p90_ms=plain.tpot_ms.p90 * 1.1)
    n_plain = size_full(cfg, planner.traffic, tight, rate, 1, max_replicas=64, need_prediction=False)
    n_slow = size_full(cfg, planner.traffic, tight, rate, 1, max_replicas=64, outcomes=SLOWER)
    assert n_plain is not None and n_plain.replicas == 1
    assert n_slow is None or n_slow.replicas > 1


def test_plan_with_outcomes_corrects_only_that_configuration() -> None:
    catalog = small_catalog()
    s = spec()
    before = plan(s, catalog)
    top = before.options[0]
    observed = {outcome_key(top.model_id, top.gpu_id, top.engine): SLOWER}
    after = plan(s, dataclasses.replace(catalog, outcomes=observed))
    for o in options(after):
        was = next(
            (
                b
                for b in options(before)
                if (b.model_id, b.gpu_id, b.precision, b.tp) == (o.model_id, o.gpu_id, o.precision, o.tp)
            ),
            None,
        )
        if (o.model_id, o.gpu_id) == (top.model_id, top.gpu_id):
            assert o.corrected_by_outcomes == 2
            assert "Predictions corrected by 2 observed outcomes" in o.rationale
            if was is not None and was.replicas == o.replicas:
                assert o.tpot_ms.mean == pytest.approx(was.tpot_ms.mean * SLOWER.factors[1])
        else:
            assert o.corrected_by_outcomes == 0
            if was is not None:
                assert (o.replicas, o.tpot_ms.mean) == (was.replicas, was.tpot_ms.mean)
    # The shared catalog memo stayed physics-only: planning without outcomes gives the first answer.
    assert [(o.model_id, o.replicas, o.tpot_ms.mean) for o in options(plan(s, catalog))] == [
        (o.model_id, o.replicas, o.tpot_ms.mean) for o in options(before)
    ]
