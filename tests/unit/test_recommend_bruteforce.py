"""On a small catalog, the top `cost` option is the cheapest configuration whose predicted percentiles meet
every target, found by brute force over model × GPU × precision × TP × replicas with the full model."""

from __future__ import annotations

import math

import pytest

from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import apply_template, template_for_task
from app.perf.memory import param_counts, valid_tp_degrees
from app.planning.catalog import default_catalog
from app.planning.cost import PriceRow
from app.planning.plan import GpuEntry, ModelEntry, PlanCatalog, Planner, PlanSettings, plan
from app.planning.quality import ModelFacts, quality_indexes
from app.planning.sizing import (
    Targets,
    full_predict,
    headroom,
    meets,
    memory_fit,
    memory_workload,
    with_margin,
)
from app.planning.traffic import derive_traffic

pytestmark = pytest.mark.unit

MODELS = ["meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct"]
GPUS = {"L4": 0.70, "A100-SXM-80GB": 1.60, "H100-SXM-80GB": 2.40}
PRECISIONS = ("bf16", "fp8", "int4")


def small_catalog() -> PlanCatalog:
    cat = default_catalog()
    archs = {mid: cat.get_model(mid) for mid in MODELS}
    facts = []
    for mid, arch in archs.items():
        pc = param_counts(arch)
        facts.append(
            ModelFacts(
                id=mid,
                family=mid.split("/")[1].lower(),
                total_params_b=pc.total / 1e9,
                active_params_b=pc.active / 1e9,
                scores=(),
            )
        )
    qualities = quality_indexes(facts)
    models = {
        mid: ModelEntry(id=mid, family="test", arch=archs[mid], quality=qualities[mid], license="test")
        for mid in MODELS
    }
    gpus = {gid: GpuEntry(id=gid, spec=cat.get_gpu(gid), tdp_w=300.0) for gid in GPUS}
    prices = [
        PriceRow(id=i, gpu_id=gid, kind="on_demand", provider=f"Cloud{i}", source="test", usd_per_gpu_hour=p)
        for i, (gid, p) in enumerate(GPUS.items())
    ]
    triples = [
        (m, g, p) for m in MODELS for g in GPUS for p in PRECISIONS if p != "fp8" or gpus[g].spec.fp8_tflops
    ]
    return PlanCatalog(models=models, gpus=gpus, prices=prices, candidates=triples)


def spec(**changes: object) -> Specification:
    intent = DeploymentIntent(
        task_type="chatbot", total_users=20000, priority="cost", quality_threshold="standard"
    )
    return (
        apply_template(intent, template_for_task("chatbot")).edit(**changes)
        if changes
        else apply_template(intent, template_for_task("chatbot"))
    )


def fewest(cfg_args: tuple, traffic, targets: Targets, rate: float, limit: int = 64) -> int | None:
    from app.planning.sizing import Config

    for n in range(1, limit + 1):
        if meets(full_predict(Config(*cfg_args), traffic, rate / n), traffic, targets):
            return n
    return None


def brute_force(s: Specification, catalog: PlanCatalog) -> tuple[float, tuple[str, str, str, int]]:
    _, traffic = derive_traffic(s)
    # Sized against the targets less the planner's safety margin; priced with the planner's cost function.
    targets = with_margin(Targets(s.target_ttft_p90_ms, s.target_tpot_p90_ms, s.target_e2e_latency_p95_ms))
    pricer = Planner(s, catalog, PlanSettings())
    wl = memory_workload(traffic)
    best = (math.inf, ("", "", "", 0))
    for model_id, gpu_id, precision in catalog.candidates:
        model, gpu = catalog.models[model_id], catalog.gpus[gpu_id]
        for tp in valid_tp_degrees(model.arch, 8):
            reason, conc, kv = memory_fit(model.arch, gpu.spec, tp, precision, "vllm", wl)
            if reason is not None:
                continue
            args = (model_id, gpu_id, precision, tp, model.arch, gpu.spec, conc, kv, tp)
            n_peak = fewest(args, traffic, targets, traffic.peak_qps)
            if n_peak is None:
                continue
            n_steady = fewest(args, traffic, targets, traffic.steady_qps, n_peak) or n_peak
            spare, _ = headroom(n_peak, s.reliability_target)
            cost = pricer.cost_of_counts(gpu_id, tp * (n_steady + spare), tp * (n_peak + spare))
            assert cost is not None
            if cost.monthly_usd < best[0] - 1e-6:
                best = (cost.monthly_usd, (model_id, gpu_id, precision, tp))
    return best


@pytest.mark.parametrize("users", [2000, 20000])
def test_top_cost_option_is_the_brute_force_cheapest(users: int) -> None:
    catalog = small_catalog()
    s = spec(total_users=users, expected_qps=users * 0.1 * 2 / 60)
    result = plan(s, catalog, PlanSettings())
    assert result.options, result.message
    cheapest, config = brute_force(s, catalog)
    top = result.options[0]
    assert top.cost.monthly_usd == pytest.approx(cheapest, abs=0.01), (top.model_id, top.gpu_id, config)
    assert all(o.cost.monthly_usd >= top.cost.monthly_usd for o in result.options)
