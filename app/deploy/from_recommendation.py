"""Build a DeploymentPlan from a stored recommendation option (the input of stage 4).

The option gives model, GPU, TP, replica bounds, vLLM arguments and the SLO checks; the `gpus` table gives
the Kubernetes product label; the caller gives target, namespace and simulator-or-real. In simulator mode
the planner's predicted performance profile (app/planning/profile.py) is embedded, so the simulator
behaves as the recommendation predicted.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.deploy.plan import MAX_NAME_LENGTH, DeploymentPlan, SLOTargets, VllmArgs
from app.errors import NotFound, describe
from app.planning.result import Option, RecommendationResult
from db import models as m

# SLO targets used when a recommendation has no check for a metric (alerts still need a threshold).
DEFAULT_SLO = {"ttft_p90_ms": 2000.0, "tpot_p90_ms": 200.0, "e2e_p95_ms": 60000.0}
_VLLM_KEYS = set(VllmArgs.model_fields)
# Online quantisation vLLM can apply to a 16-bit repo. Only fp8: an int4 option must name a published
# AWQ/GPTQ repo (``Option.checkpoint``), whose config tells vLLM the format, so no flag is passed for it.
_ONLINE = {"fp8": "fp8"}


class PlanSourceError(NotFound, LookupError):
    """The recommendation or option does not exist, or a plan cannot be built from it; says why."""


@dataclass
class PlanFromRecommendation:
    plan: DeploymentPlan
    recommendation_id: uuid.UUID
    option_index: int  # the option's rank
    specification: dict[str, Any]
    prediction: dict[str, Any]  # the option as predicted (what observe compares against)

    def provenance(self) -> dict[str, Any]:
        """Where the plan came from, as the keyword arguments `service.create_deployment` records."""
        return {
            "recommendation_id": self.recommendation_id,
            "option_index": self.option_index,
            "specification": self.specification,
            "prediction": self.prediction,
        }


def deployment_name(model_id: str, deployment_id: str) -> str:
    """A DNS-1035 name: the model's short name plus 6 characters of the id, at most 45 characters."""
    short = model_id.split("/")[-1].lower()
    short = re.sub(r"[^a-z0-9]+", "-", short).strip("-")
    short = re.sub(r"^[^a-z]+", "", short) or "model"
    suffix = deployment_id.replace("-", "")[:6]
    return f"{short[: MAX_NAME_LENGTH - 7].rstrip('-')}-{suffix}"


def slo_targets(option: Option) -> SLOTargets:
    values = dict(DEFAULT_SLO)
    for check in option.slo_checks:
        if check.metric in values and check.target > 0:
            values[check.metric] = float(check.target)
    return SLOTargets(**values)


def vllm_args(option: Option) -> VllmArgs:
    args = {k: v for k, v in option.vllm_args.items() if k in _VLLM_KEYS and v is not None}
    if option.checkpoint is not None:
        # The checkpoint decides: a published quantised repo carries its format; only online fp8 needs a flag.
        args.pop("quantization", None)
        if option.checkpoint.quantization:
            args["quantization"] = option.checkpoint.quantization
    elif "quantization" not in args and option.precision.lower() in _ONLINE:
        args["quantization"] = _ONLINE[option.precision.lower()]
    return VllmArgs(**args)


def checkpoint_repo(option: Option) -> str:
    """The repo vLLM loads: the option's published checkpoint, else the model's own repo."""
    if option.checkpoint is not None:
        return option.checkpoint.repo
    if option.precision.lower() not in ("bf16", "fp16", *_ONLINE):
        raise PlanSourceError(
            f"option {option.rank} serves {option.model_id} in {option.precision} but names no checkpoint "
            "that holds those weights; re-run the recommendation"
        )
    return option.model_id


def predicted_profile(option: Option, vllm: VllmArgs) -> dict[str, Any]:
    """The planner's performance profile for this option (docs/performance-profile.md)."""
    from app.perf.errors import PlanningError
    from app.perf.profile import performance_profile
    from app.planning.catalog import default_catalog
    from app.planning.perf_context import default_calibration

    catalog = default_catalog()
    try:
        arch = catalog.get_model(option.model_id)
        gpu = catalog.get_gpu(option.gpu_id)
        profile = performance_profile(
            arch,
            gpu,
            default_calibration(),
            tp=option.tp,
            precision=option.precision,
            engine=option.engine,
            max_num_seqs=vllm.max_num_seqs,
            max_num_batched_tokens=vllm.max_num_batched_tokens,
            gpu_memory_utilization=vllm.gpu_memory_utilization,
            served_model_name=option.model_id,
        )
    except PlanningError as e:
        raise PlanSourceError(f"cannot build the simulator profile for option {option.rank}: {e}") from e
    profile.setdefault("max_model_len", min(vllm.max_model_len, int(profile["kv_cache"]["tokens"])))
    return profile


async def load_option(
    recommendation_id: str | uuid.UUID, option_rank: int, *, principal: Principal, session: AsyncSession
) -> tuple[m.Recommendation, RecommendationResult, Option]:
    try:
        rec_id = (
            recommendation_id if isinstance(recommendation_id, uuid.UUID) else uuid.UUID(recommendation_id)
        )
    except ValueError as e:
        raise PlanSourceError(f"{recommendation_id!r} is not a recommendation id (a UUID)") from e
    row = await session.get(m.Recommendation, rec_id)
    # Someone else's recommendation reads as missing, so ids cannot be probed. One without an owner (its
    # owner was removed, or the operator made it) is for administrators, as everywhere else.
    if row is None or (not principal.is_admin and row.owner_id != principal.id):
        raise PlanSourceError(f"recommendation {rec_id} not found")
    try:
        result = RecommendationResult.model_validate(row.result)
    except ValidationError as e:
        raise PlanSourceError(
            f"recommendation {rec_id} is stored in a shape this version cannot read: {describe(e)}"
        ) from e
    option = next((o for o in result.options if o.rank == option_rank), None)
    if option is None:
        ranks = ", ".join(str(o.rank) for o in result.options) or "none"
        raise PlanSourceError(f"recommendation {rec_id} has no option {option_rank} (options: {ranks})")
    return row, result, option


async def plan_from_recommendation(
    recommendation_id: str | uuid.UUID,
    option_rank: int = 1,
    *,
    principal: Principal,
    session: AsyncSession,
    mode: Literal["simulator", "real"] = "simulator",
    namespace: str = "default",
    deployment_id: str | None = None,
    replicas: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> PlanFromRecommendation:
    """The plan for one option. `replicas` pins min = max (e.g. a local run of exactly N replicas);
    `overrides` sets other DeploymentPlan fields (flavor, autoscaler, image, ...)."""
    row, result, option = await load_option(
        recommendation_id, option_rank, principal=principal, session=session
    )
    dep_id = deployment_id or str(uuid.uuid4())
    gpu_label = (
        await session.execute(select(m.Gpu.k8s_product_label).where(m.Gpu.id == option.gpu_id))
    ).scalar_one_or_none()
    if not gpu_label:
        if mode == "real":
            raise PlanSourceError(
                f"GPU {option.gpu_id} has no Kubernetes product label (nvidia.com/gpu.product) in the "
                "catalog: add it to the gpus table, or pass gpu_product_label in the overrides"
            )
        gpu_label = option.gpu_id  # unused in simulator mode: there is no GPU node selector
    vllm = vllm_args(option)
    lo = replicas if replicas is not None else option.min_replicas
    hi = replicas if replicas is not None else max(option.max_replicas, lo)
    fields: dict[str, Any] = {
        "deployment_id": dep_id,
        "name": deployment_name(option.model_id, dep_id),
        "namespace": namespace,
        "description": f"recommendation {row.id} option {option.rank}: {option.rationale}"[:2000],
        "model_id": checkpoint_repo(option),
        "served_model_name": option.model_id,
        "gpu_id": option.gpu_id,
        "gpu_product_label": gpu_label,
        "tensor_parallel_size": option.tp,
        "replicas_min": lo,
        "replicas_max": hi,
        "vllm": vllm,
        "slo": slo_targets(option),
        "mode": mode,
        "performance_profile": predicted_profile(option, vllm) if mode == "simulator" else None,
    }
    fields.update(overrides or {})
    try:
        plan = DeploymentPlan(**fields)
    except ValidationError as e:
        raise PlanSourceError(
            f"option {option.rank} does not make a valid deployment plan: {describe(e)}"
        ) from e
    return PlanFromRecommendation(
        plan=plan,
        recommendation_id=row.id,
        option_index=option.rank,
        specification=result.specification,
        prediction=option.model_dump(mode="json"),
    )
