"""A uvicorn app factory for chat tests and benchmarks: Preflight's real app, and while the recommender
(app/planning/recommend.py) has not landed, a small stand-in planner so the chat has options to show.

The stand-in is deliberately simple arithmetic over a fixed candidate table (not a performance model): it
exists only so the UI flow can be driven end to end. With the real recommender present it is not used.

    uvicorn --factory chat_server:create_app --app-dir tests/e2e --port 8000
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI

from app.intent.schema import Specification
from app.perf.types import PredictionInterval, Stats
from app.planning.result import (
    Cost,
    Option,
    Quality,
    RecommendationResult,
    Rejected,
    SloCheck,
    TrafficDerivation,
)

# model, gpu, tp, $/GPU-hour, TTFT p90 at light load (ms), TPOT p90 (ms), req/s per replica, quality
CANDIDATES: list[tuple[str, str, int, float, float, float, float, float]] = [
    ("meta-llama/Llama-3.1-8B-Instruct", "L4-24GB", 1, 0.80, 190.0, 31.0, 2.5, 62.0),
    ("meta-llama/Llama-3.1-8B-Instruct", "L40S-48GB", 1, 1.60, 120.0, 22.0, 5.0, 62.0),
    ("meta-llama/Llama-3.1-8B-Instruct", "A100-80GB", 1, 2.20, 95.0, 18.0, 8.0, 62.0),
    ("meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", 1, 3.90, 60.0, 11.0, 14.0, 62.0),
    ("Qwen/Qwen2.5-14B-Instruct", "L40S-48GB", 1, 1.60, 170.0, 30.0, 3.0, 70.0),
    ("Qwen/Qwen2.5-14B-Instruct", "A100-80GB", 1, 2.20, 130.0, 24.0, 5.0, 70.0),
    ("Qwen/Qwen2.5-14B-Instruct", "H100-SXM-80GB", 1, 3.90, 80.0, 15.0, 9.0, 70.0),
    ("meta-llama/Llama-3.1-70B-Instruct", "A100-80GB", 4, 2.20, 260.0, 34.0, 4.0, 80.0),
    ("meta-llama/Llama-3.1-70B-Instruct", "H100-SXM-80GB", 2, 3.90, 150.0, 24.0, 6.0, 80.0),
    ("meta-llama/Llama-3.1-70B-Instruct", "L4-24GB", 8, 0.80, 1400.0, 90.0, 1.0, 80.0),
]


def _stats(p90: float) -> Stats:
    return Stats(mean=p90 * 0.7, p50=p90 * 0.65, p90=p90, p95=p90 * 1.1, p99=p90 * 1.4)


def _check(metric: str, target: float, predicted: float) -> SloCheck:
    low, high = predicted * 0.85, predicted * 1.15
    verdict = "meets" if high <= target else "misses" if low > target else "uncertain"
    return SloCheck(
        metric=metric,
        target=target,
        predicted=predicted,
        interval=(low, high),  # type: ignore[arg-type]
        verdict=verdict,
    )  # type: ignore[arg-type]


def standin_recommend(spec: Specification, **_: Any) -> RecommendationResult:
    allowed = set(spec.available_gpus)
    options: list[Option] = []
    rejected: list[Rejected] = []
    for model, gpu, tp, price, ttft0, tpot, rps, quality in CANDIDATES:
        if allowed and gpu not in allowed:
            continue
        replicas = max(1, math.ceil(spec.peak_qps / rps)) + 1
        load = spec.peak_qps / (rps * replicas)
        ttft = ttft0 * (1 + load) * (spec.prompt_length_avg / 150) ** 0.5
        e2e = ttft + tpot * spec.generation_length_avg
        checks = [
            _check("ttft_p90_ms", spec.target_ttft_p90_ms, ttft),
            _check("tpot_p90_ms", spec.target_tpot_p90_ms, tpot),
            _check("e2e_p95_ms", spec.target_e2e_latency_p95_ms, e2e * 1.1),
        ]
        hourly = price * tp * replicas
        # Only TTFT and TPOT reject here: the stand-in's E2E arithmetic is too crude to decide on.
        if any(c.verdict == "misses" for c in checks[:2]):
            missed = next(c for c in checks[:2] if c.verdict == "misses")
            rejected.append(
                Rejected(
                    model_id=model,
                    gpu_id=gpu,
                    tp=tp,
                    precision="bf16",
                    reason=f"predicted {missed.metric} {missed.predicted:,.0f} > {missed.target:,.0f}",
                )
            )
            continue
        if spec.max_monthly_cost_usd and hourly * 730 > spec.max_monthly_cost_usd:
            rejected.append(
                Rejected(
                    model_id=model, gpu_id=gpu, tp=tp, reason=f"${hourly * 730:,.0f}/month is over budget"
                )
            )
            continue
        options.append(
            Option(
                rank=1,
                model_id=model,
                gpu_id=gpu,
                precision="bf16",
                tp=tp,
                replicas=replicas,
                min_replicas=max(1, replicas - 1),
                max_replicas=replicas + 1,
                gpus_total=tp * replicas,
                headroom="N+1 for 99.9%",
                ttft_ms=_stats(ttft),
                tpot_ms=_stats(tpot),
                e2e_ms=_stats(e2e),
                output_tokens_per_s=rps * spec.generation_length_avg,
                requests_per_s_capacity=rps,
                basis="estimated",
                interval=PredictionInterval(
                    ttft_ms=(ttft * 0.85, ttft * 1.15),
                    tpot_ms=(tpot * 0.85, tpot * 1.15),
                    output_tokens_per_s=(rps * 150, rps * 250),
                ),
                slo_checks=checks,
                cost=Cost(
                    deployment_model="cloud_rental",
                    hourly_usd=hourly,
                    monthly_usd=hourly * 730,
                    provider="stand-in price list",
                ),
                quality=Quality(index=quality, basis="estimated", detail="stand-in value"),
                max_concurrency=64,
                kv_cache_tokens=100_000,
                rationale=f"Stand-in planner: {replicas} replica(s) of {model} on {tp}× {gpu} keep peak load "
                f"at {load:.0%} of capacity.",
            )
        )
    key = {
        "latency": lambda o: o.ttft_ms.p90,
        "cost": lambda o: o.cost.monthly_usd,
        "accuracy": lambda o: -o.quality.index,
        "balanced": lambda o: o.cost.monthly_usd * o.ttft_ms.p90,
    }[spec.priority]
    options.sort(key=key)
    ranked = [o.model_copy(update={"rank": i + 1}) for i, o in enumerate(options)]
    return RecommendationResult(
        specification=spec.model_dump(mode="json"),
        traffic=TrafficDerivation(
            steady_qps=spec.expected_qps,
            peak_qps=spec.peak_qps,
            prompt_tokens_avg=spec.prompt_length_avg,
            output_tokens_avg=spec.generation_length_avg,
            arrival="gamma",
            burstiness_cv=1.5,
            explanation=[spec.qps_derivation.explanation] if spec.qps_derivation else [],
        ),
        options=ranked[:5],
        viable=ranked[5:],
        rejected=rejected,
        pareto=[o.rank for o in ranked[:5] if o.rank <= 2],
        message=None if ranked else "nothing meets these constraints",
    )


def install_standin_if_needed() -> bool:
    """Install the stand-in planner when the real recommender is missing; True when installed."""
    from app.chat.planner import recommender_available, set_planner

    if recommender_available():
        return False
    set_planner(standin_recommend)
    return True


def create_app() -> FastAPI:
    from app.api import create_app as real_create_app

    install_standin_if_needed()
    return real_create_app()
