"""Over the WHOLE seeded catalog (every recommendable model × GPU × precision × TP the SQL layer returns, with
the real prices), the top `cost` option is the cheapest configuration found by exhaustive search.

The search here is independent of the planner's screen, finalist selection and pruning: every configuration
that passes the catalog-level checks (quality, context window, checkpoint, memory fit) is sized with the full
percentile model by trying 1, 2, 3, ... replicas, then priced with the same cost function. It visits the
configurations in order of a lower bound on their cost (one replica plus headroom; cost only grows with the
replica count) and stops once that bound reaches the best found: branch and bound, so still exact.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.intent.schema import DeploymentIntent
from app.intent.usecases import apply_template, template_for_task
from app.perf.memory import WEIGHT_BYTES, param_counts
from app.planning.plan import Candidate, Planner, PlanSettings, plan
from app.planning.sizing import full_predict, headroom, meets
from app.services.planner import load_catalog

MAX_REPLICAS = 64


def _fewest(planner: Planner, c: Candidate, rate: float) -> int | None:
    for n in range(1, MAX_REPLICAS + 1):
        if meets(full_predict(c.cfg, planner.traffic, rate / n), planner.traffic, planner.sizing_targets):
            return n
    return None


def brute_force(planner: Planner) -> tuple[float, Candidate | None]:
    spec = planner.spec
    cands = [c for c in planner.build_candidates() if not c.violations]
    spare1, _ = headroom(1, spec.reliability_target)

    def bound(c: Candidate) -> float:
        gpus = c.cfg.tp * (1 + spare1)
        cost = planner.cost_of_counts(c.cfg.gpu_id, gpus, gpus)
        return cost.monthly_usd if cost is not None else math.inf

    best, best_c = math.inf, None
    for c in sorted(cands, key=bound):
        if bound(c) >= best - 1e-6:
            break
        n_peak = _fewest(planner, c, planner.traffic.peak_qps)
        if n_peak is None:
            continue
        n_steady = _fewest(planner, c, planner.traffic.steady_qps) or n_peak
        spare, _ = headroom(n_peak, spec.reliability_target)
        cost = planner.cost_of_counts(
            c.cfg.gpu_id, c.cfg.tp * (n_steady + spare), c.cfg.tp * (n_peak + spare)
        )
        if cost is not None and cost.monthly_usd < best - 1e-6:
            best, best_c = cost.monthly_usd, c
    return best, best_c


@pytest.mark.parametrize(
    ("task", "users", "quality"),
    [("chatbot", 1000, "standard"), ("chatbot", 20000, "high"), ("summarization", 3000, "standard")],
)
async def test_top_cost_option_is_the_exhaustive_cheapest(
    session: Any, task: str, users: int, quality: str
) -> None:
    intent = DeploymentIntent(task_type=task, total_users=users, priority="cost", quality_threshold=quality)
    spec = apply_template(intent, template_for_task(task))
    settings = PlanSettings()
    catalog = await load_catalog(spec, session=session, settings=settings)
    assert len(catalog.models) >= 20 and len(catalog.gpus) >= 10  # the whole seeded catalog
    result = plan(spec, catalog, settings)
    assert result.options, result.message
    cheapest, config = brute_force(Planner(spec, catalog, settings))
    top = result.options[0]
    assert config is not None
    assert top.cost.monthly_usd == pytest.approx(cheapest, abs=0.01), (
        top.model_id,
        top.gpu_id,
        top.precision,
        top.tp,
        config.cfg.model_id,
        config.cfg.gpu_id,
        config.cfg.precision,
        config.cfg.tp,
    )
    assert all(o.cost.monthly_usd >= top.cost.monthly_usd - 0.01 for o in result.options)
    # Physics: no option shown has a TPOT below streaming its active weights from HBM once per token.
    for o in result.options + result.viable:
        arch, gpu = catalog.models[o.model_id].arch, catalog.gpus[o.gpu_id].spec
        pc = param_counts(arch)
        streamed = (pc.active - pc.embedding - pc.lm_head - pc.norms) * WEIGHT_BYTES[o.precision] / o.tp
        assert o.tpot_ms.p90 >= streamed / (gpu.mem_bw_tb_s * 1e12) * 1e3 * 0.999, (o.model_id, o.gpu_id)
