"""Learning from outcomes: per (model, GPU, engine) correction factors, shrunk toward the global fit.

For each stored outcome of a configuration and each metric (TTFT, TPOT/ITL, throughput), observed/predicted
is a residual of the performance model at that configuration. The planner owns how these enter a
prediction: ``app.perf.corrections.apply_outcome_corrections`` takes one ``OutcomeCorrection`` per
outcome and shrinks their geometric mean toward 1, the calibrated global fit, as if the fit were worth
``prior_strength`` (3) outcomes that agreed with it:

    factor = exp(sum(clip(log r_i)) / (n + k))

so one outcome moves a prediction a quarter of the way (in log space) toward what it observed, ten outcomes
77% of the way, and each ratio is clipped to a factor of 3 so one broken run cannot swing the model. This
module finds the outcomes (Postgres), turns them into those inputs, reports the same factors for display,
and applies them; a plain dict (an ``Option`` dump) is scaled here with the same factors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.observe.outcomes import ratio
from app.perf.corrections import MAX_RATIO, OutcomeCorrection, apply_outcome_corrections
from app.perf.types import Prediction
from db import models as m

METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    # metric name -> (prediction field, Stats fields tried in order)
    "ttft": ("ttft_ms", ("mean", "p50")),
    "tpot": ("tpot_ms", ("mean", "p50")),
    "throughput": ("output_tokens_per_s", ()),
}
PRIOR_STRENGTH = 3.0
MAX_LOG_RATIO = math.log(MAX_RATIO)

P = TypeVar("P")


class Corrections(BaseModel):
    """Multiplicative factors for one configuration (1.0 = no correction), and the outcomes behind them."""

    model_config = ConfigDict(extra="forbid")

    model_id: str
    gpu_id: str
    engine: str
    ttft: float = 1.0
    tpot: float = 1.0
    throughput: float = 1.0
    n_outcomes: int = Field(default=0, description="Outcomes of this configuration behind the factors")
    prior_strength: float = PRIOR_STRENGTH
    outcomes: list[OutcomeCorrection] = Field(default_factory=list)

    def factor(self, metric: str) -> float:
        return float(getattr(self, metric))


class OutcomeRatios(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: str | None
    gpu_id: str | None
    engine: str | None
    log_ratios: dict[str, float]


def outcome_ratios(
    observed: Mapping[str, Any], predicted: Mapping[str, Any], key: tuple[str | None, str | None, str | None]
) -> OutcomeRatios:
    """Clipped log(observed / predicted) of each metric both sides have."""
    out: dict[str, float] = {}
    for metric, (field, stats) in METRICS.items():
        value = None
        for stat in stats or (None,):
            value = ratio(observed, predicted, field, stat)
            if value is not None:
                break
        if value is not None:
            out[metric] = max(-MAX_LOG_RATIO, min(MAX_LOG_RATIO, math.log(value)))
    return OutcomeRatios(model_id=key[0], gpu_id=key[1], engine=key[2], log_ratios=out)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def to_outcome_correction(o: OutcomeRatios) -> OutcomeCorrection:
    def r(metric: str) -> float | None:
        return math.exp(o.log_ratios[metric]) if metric in o.log_ratios else None

    return OutcomeCorrection(ttft_ratio=r("ttft"), tpot_ratio=r("tpot"), throughput_ratio=r("throughput"))


def correction_factors(
    outcomes: Iterable[OutcomeRatios],
    model_id: str,
    gpu_id: str,
    engine: str = "vllm",
    *,
    prior_strength: float = PRIOR_STRENGTH,
) -> Corrections:
    """Shrunk correction factors for one configuration from its outcomes (pure; others are ignored)."""
    mine = [
        o
        for o in outcomes
        if _same(o.model_id, model_id)
        and _same(o.gpu_id, gpu_id)
        and _same(o.engine, engine)
        and o.log_ratios
    ]
    factors: dict[str, float] = {}
    for metric in METRICS:
        own = [o.log_ratios[metric] for o in mine if metric in o.log_ratios]
        factors[metric] = round(math.exp(sum(own) / (len(own) + prior_strength)), 6) if own else 1.0
    return Corrections(
        model_id=model_id,
        gpu_id=gpu_id,
        engine=engine,
        n_outcomes=len(mine),
        prior_strength=prior_strength,
        outcomes=[to_outcome_correction(o) for o in mine],
        **factors,
    )


async def load_corrections(
    model_id: str,
    gpu_id: str,
    engine: str = "vllm",
    *,
    session: AsyncSession,
    prior_strength: float = PRIOR_STRENGTH,
    limit: int = 5000,
) -> Corrections:
    """Correction factors from the configuration's stored outcomes (the latest ``limit`` of them)."""
    rows = (
        await session.execute(
            select(
                m.DeploymentOutcome.model_id,
                m.DeploymentOutcome.gpu_id,
                m.DeploymentOutcome.engine,
                m.DeploymentOutcome.observed,
                m.DeploymentOutcome.predicted,
            )
            .where(
                func.lower(m.DeploymentOutcome.model_id) == model_id.lower(),
                func.lower(m.DeploymentOutcome.gpu_id) == gpu_id.lower(),
                func.lower(m.DeploymentOutcome.engine) == engine.lower(),
            )
            .order_by(m.DeploymentOutcome.id.desc())
            .limit(limit)
        )
    ).all()
    ratios = [outcome_ratios(obs or {}, pred or {}, (mid, gid, eng)) for mid, gid, eng, obs, pred in rows]
    return correction_factors(ratios, model_id, gpu_id, engine, prior_strength=prior_strength)


async def load_all_corrections(
    *, session: AsyncSession, prior_strength: float = PRIOR_STRENGTH, limit: int = 5000
) -> dict[tuple[str, str, str], Corrections]:
    """Correction factors of every (model, GPU, engine) with outcomes, in one grouped query.

    Keyed by ``app.perf.corrections.outcome_key`` (lower case); each configuration uses its latest
    ``limit`` outcomes, like ``load_corrections``.
    """
    # One row per configuration: its [observed, predicted] pairs, newest first.
    pair = func.json_build_array(m.DeploymentOutcome.observed, m.DeploymentOutcome.predicted)
    pairs = func.json_agg(aggregate_order_by(pair, m.DeploymentOutcome.id.desc()), type_=JSON)
    key_cols = (
        func.lower(m.DeploymentOutcome.model_id),
        func.lower(m.DeploymentOutcome.gpu_id),
        func.lower(func.coalesce(m.DeploymentOutcome.engine, "vllm")),
    )
    rows = (
        await session.execute(
            select(*key_cols, pairs)
            .where(m.DeploymentOutcome.model_id.is_not(None), m.DeploymentOutcome.gpu_id.is_not(None))
            .group_by(*key_cols)
        )
    ).all()
    out: dict[tuple[str, str, str], Corrections] = {}
    for model_id, gpu_id, engine, observed_predicted in rows:
        key = (model_id, gpu_id, engine)
        ratios = [outcome_ratios(obs or {}, pred or {}, key) for obs, pred in observed_predicted[:limit]]
        found = correction_factors(ratios, model_id, gpu_id, engine, prior_strength=prior_strength)
        if found.n_outcomes:
            out[key] = found
    return out


# ------------------------------------------------------------------------------------ applying factors


def apply_corrections(prediction: P, corrections: Corrections) -> P:
    """The prediction moved by the configuration's outcomes, with ``corrected_by_outcomes`` raised by them.

    A ``Prediction`` goes through the planner's ``apply_outcome_corrections`` (it also moves the interval);
    a dict of the same fields (an ``Option`` dump) is scaled here by the same factors.
    """
    if corrections.n_outcomes == 0:
        return prediction
    if isinstance(prediction, Prediction):
        return cast(
            P,
            apply_outcome_corrections(
                prediction, corrections.outcomes, prior_weight=corrections.prior_strength
            ),
        )
    if isinstance(prediction, Mapping):
        return cast(P, _scale_dict(prediction, corrections))
    raise TypeError(f"cannot correct a {type(prediction).__name__}; pass a Prediction or a dict")


def _scaled_stats(value: Any, factor: float) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {k: (v * factor if isinstance(v, (int, float)) and k != "count" else v) for k, v in value.items()}


def _mean(value: Any) -> float | None:
    v = value.get("mean") if isinstance(value, Mapping) else None
    return float(v) if isinstance(v, (int, float)) else None


def _scale_dict(data: Mapping[str, Any], c: Corrections) -> dict[str, Any]:
    out = dict(data)
    for field, factor in (("ttft_ms", c.ttft), ("tpot_ms", c.tpot), ("itl_ms", c.tpot)):
        if data.get(field) is not None:
            out[field] = _scaled_stats(data[field], factor)
    e2e, ttft = _mean(data.get("e2e_ms")), _mean(data.get("ttft_ms"))
    if e2e and ttft is not None:
        # E2E = TTFT + decode time: each part moves by its own factor (as the planner does).
        corrected = ttft * c.ttft + max(e2e - ttft, 0.0) * c.tpot
        out["e2e_ms"] = _scaled_stats(data["e2e_ms"], corrected / e2e)
    for field in ("output_tokens_per_s", "requests_per_s", "requests_per_s_capacity"):
        value = data.get(field)
        if isinstance(value, (int, float)):
            out[field] = value * c.throughput
    out["corrected_by_outcomes"] = int(data.get("corrected_by_outcomes") or 0) + c.n_outcomes
    return out


async def corrected_prediction(
    prediction: P, model_id: str, gpu_id: str, engine: str = "vllm", *, session: AsyncSession
) -> tuple[P, Corrections]:
    """Load the configuration's factors and apply them: the call the recommender makes per option."""
    corrections = await load_corrections(model_id, gpu_id, engine, session=session)
    return apply_corrections(prediction, corrections), corrections
