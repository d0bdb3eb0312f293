"""Learning from outcomes: per (model, GPU, engine) correction factors with shrinkage toward the global fit.

For each stored outcome and metric (TTFT, TPOT, E2E, throughput) the log of observed/predicted is a
residual of the performance model. The factor applied to the next prediction of a configuration is

    global  g = sum(r over all outcomes) / (N + k)                 (itself shrunk toward "no correction")
    config  c = (sum(r over the config's n outcomes) + k * g) / (n + k)
    factor    = exp(c)

with prior strength ``k`` (3 by default): one outcome moves the configuration a quarter of the way (in log
space) toward what it observed, ten outcomes move it 77% of the way; a configuration never seen borrows the
global tendency only. Each residual is clipped to a factor of 4 either way, so one broken run cannot swing
the model. This is the empirical-Bayes estimate of a mean under a normal prior centred on the global mean
with the prior worth ``k`` observations.

The performance model applies the factors through ``app.planning.predict.apply_outcome_corrections`` when
it provides one; ``apply_corrections`` falls back to scaling the prediction here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.observe.outcomes import ratio
from db import models as m

METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    # metric name -> (prediction field, Stats fields tried in order)
    "ttft": ("ttft_ms", ("mean", "p50")),
    "tpot": ("tpot_ms", ("mean", "p50")),
    "e2e": ("e2e_ms", ("mean", "p50")),
    "throughput": ("output_tokens_per_s", ()),
}
PRIOR_STRENGTH = 3.0
MAX_LOG_RATIO = math.log(4.0)

P = TypeVar("P")


class Corrections(BaseModel):
    """Multiplicative factors for one configuration (1.0 = no correction)."""

    model_config = ConfigDict(extra="forbid")

    model_id: str
    gpu_id: str
    engine: str
    ttft: float = 1.0
    tpot: float = 1.0
    e2e: float = 1.0
    throughput: float = 1.0
    n_outcomes: int = Field(default=0, description="Outcomes of this configuration behind the factors")
    n_global: int = Field(default=0, description="Outcomes of every configuration behind the global fit")
    prior_strength: float = PRIOR_STRENGTH

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


def correction_factors(
    outcomes: Iterable[OutcomeRatios],
    model_id: str,
    gpu_id: str,
    engine: str = "vllm",
    *,
    prior_strength: float = PRIOR_STRENGTH,
) -> Corrections:
    """Shrunk correction factors for one configuration (pure)."""
    items = list(outcomes)
    mine = [
        o
        for o in items
        if _same(o.model_id, model_id) and _same(o.gpu_id, gpu_id) and _same(o.engine, engine)
    ]
    factors: dict[str, float] = {}
    for metric in METRICS:
        everyone = [o.log_ratios[metric] for o in items if metric in o.log_ratios]
        g = sum(everyone) / (len(everyone) + prior_strength)
        own = [o.log_ratios[metric] for o in mine if metric in o.log_ratios]
        c = (sum(own) + prior_strength * g) / (len(own) + prior_strength)
        factors[metric] = round(math.exp(c), 6)
    return Corrections(
        model_id=model_id,
        gpu_id=gpu_id,
        engine=engine,
        n_outcomes=len(mine),
        n_global=len(items),
        prior_strength=prior_strength,
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
    """Correction factors from the stored outcomes (the latest ``limit`` of them)."""
    rows = (
        await session.execute(
            select(
                m.DeploymentOutcome.model_id,
                m.DeploymentOutcome.gpu_id,
                m.DeploymentOutcome.engine,
                m.DeploymentOutcome.observed,
                m.DeploymentOutcome.predicted,
            )
            .order_by(m.DeploymentOutcome.id.desc())
            .limit(limit)
        )
    ).all()
    ratios = [outcome_ratios(obs or {}, pred or {}, (mid, gid, eng)) for mid, gid, eng, obs, pred in rows]
    return correction_factors(ratios, model_id, gpu_id, engine, prior_strength=prior_strength)


# ------------------------------------------------------------------------------------ applying factors


def apply_corrections(prediction: P, corrections: Corrections) -> P:
    """The prediction moved by the factors, with ``corrected_by_outcomes`` set.

    Uses the performance model's ``apply_outcome_corrections`` when it exists, so the planner owns how a
    correction enters its numbers (for example its intervals); otherwise scales the values here. Accepts a
    ``Prediction``/``Option`` (pydantic) or a dict of the same fields.
    """
    if corrections.n_outcomes == 0 and corrections.n_global == 0:
        return prediction
    import importlib

    planner_fn = getattr(importlib.import_module("app.planning.predict"), "apply_outcome_corrections", None)
    if callable(planner_fn) and not isinstance(prediction, Mapping):
        return cast(P, planner_fn(prediction, corrections))
    return _scale(prediction, corrections)


def _scaled_stats(value: Any, factor: float) -> Any:
    if value is None:
        return None
    if hasattr(value, "scaled"):
        return value.scaled(factor)
    if isinstance(value, Mapping):
        return {
            k: (v * factor if isinstance(v, (int, float)) and k != "count" else v) for k, v in value.items()
        }
    return value


def _scale(prediction: P, c: Corrections) -> P:
    updates: dict[str, Any] = {}
    data: Mapping[str, Any] = prediction if isinstance(prediction, Mapping) else vars(prediction)
    for field, factor in (
        ("ttft_ms", c.ttft),
        ("tpot_ms", c.tpot),
        ("itl_ms", c.tpot),
        ("e2e_ms", c.e2e),
    ):
        if data.get(field) is not None:
            updates[field] = _scaled_stats(data[field], factor)
    for field in ("output_tokens_per_s", "requests_per_s", "requests_per_s_capacity"):
        value = data.get(field)
        if isinstance(value, (int, float)):
            updates[field] = value * c.throughput
    updates["corrected_by_outcomes"] = c.n_outcomes
    if isinstance(prediction, Mapping):
        return {**prediction, **updates}  # type: ignore[return-value]
    copy = getattr(prediction, "model_copy", None)
    if copy is None:
        raise TypeError(f"cannot correct a {type(prediction).__name__}; pass a pydantic model or a dict")
    fields = getattr(type(prediction), "model_fields", {})
    return cast(P, copy(update={k: v for k, v in updates.items() if k in fields}))


async def corrected_prediction(
    prediction: P, model_id: str, gpu_id: str, engine: str = "vllm", *, session: AsyncSession
) -> tuple[P, Corrections]:
    """Load the configuration's factors and apply them: the call the recommender makes per option."""
    corrections = await load_corrections(model_id, gpu_id, engine, session=session)
    return apply_corrections(prediction, corrections), corrections
