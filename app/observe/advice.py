"""Advice from what a deployment does: right-size it, act on SLOs at risk, re-plan when traffic drifted.

Inputs are plain values (window stats, SLO statuses, the planned traffic and capacity), so the chat, the CLI
(`preflight observe`, `preflight deployments show`) and the API all show the same advice. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.observe.metrics import WindowStats
from app.observe.slo import SloStatus

AdviceKind = Literal["scale_out", "next_gpu", "scale_in", "drift", "ok"]
Severity = Literal["info", "warning", "critical"]

# A rough ladder of the next step up in memory and bandwidth, for "consider the next GPU".
NEXT_GPU: dict[str, str] = {
    "T4": "L4",
    "A10G": "L40S",
    "L4": "L40S",
    "L40S": "A100-SXM-80GB",
    "A100-PCIE-40GB": "A100-SXM-80GB",
    "A100-SXM-40GB": "A100-SXM-80GB",
    "A100-SXM-80GB": "H100-SXM-80GB",
    "H100-PCIE-80GB": "H100-SXM-80GB",
    "H100-SXM-80GB": "H200-SXM-141GB",
    "H200-SXM-141GB": "B200-SXM-192GB",
    "MI300X": "MI325X",
}
AT_RISK = 0.9  # an SLO whose observed value reaches 90% of its target is at risk
HEADROOM = 0.6  # below 60% of every target there is room to remove capacity
TARGET_UTILISATION = 0.7  # plan replicas so each runs at 70% of its capacity
HOURS_PER_MONTH = 730.0


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Advice(_M):
    kind: AdviceKind
    severity: Severity
    message: str
    saving_usd_month: float | None = Field(default=None, description="Positive: saves; negative: costs more")
    suggested_replicas: int | None = None
    suggested_gpu: str | None = None


class PlanFacts(_M):
    """What was planned for the deployment (from its specification and chosen option)."""

    replicas: int = Field(ge=1)
    gpu_id: str | None = None
    capacity_rps_per_replica: float | None = Field(default=None, description="Option.requests_per_s_capacity")
    hourly_usd_per_replica: float | None = None
    expected_qps: float | None = None
    peak_qps: float | None = None
    prompt_tokens_avg: float | None = None
    output_tokens_avg: float | None = None


def _next_gpu(gpu: str | None) -> str | None:
    if not gpu:
        return None
    if gpu in NEXT_GPU:
        return NEXT_GPU[gpu]
    for k, v in NEXT_GPU.items():
        if gpu.lower().startswith(k.lower()):
            return v
    return None


def advise(stats: WindowStats | None, statuses: Sequence[SloStatus], plan: PlanFacts) -> list[Advice]:
    """Advice for one deployment over one window; ``[ok]`` when nothing calls for action."""
    out: list[Advice] = []
    if stats is None or stats.requests <= 0:
        return [Advice(kind="ok", severity="info", message="no traffic in the window: nothing to advise yet")]
    latency = [s for s in statuses if s.unit == "ms" and s.observed is not None]
    violated = [s for s in latency if s.met is False]
    at_risk = [s for s in latency if s.met and s.observed is not None and s.observed >= AT_RISK * s.target]
    memory_bound = (stats.kv_cache_usage_max or 0.0) >= 0.95 or stats.preemptions_per_s > 0
    per_replica = stats.request_rate / plan.replicas
    if violated or at_risk:
        worst = max(violated or at_risk, key=lambda s: (s.observed or 0.0) / s.target)
        ratio = (worst.observed or 0.0) / worst.target
        needed = plan.replicas + 1
        if plan.capacity_rps_per_replica:
            needed = max(
                needed, math.ceil(stats.request_rate / (plan.capacity_rps_per_replica * TARGET_UTILISATION))
            )
        cost = (
            -(needed - plan.replicas) * plan.hourly_usd_per_replica * HOURS_PER_MONTH
            if plan.hourly_usd_per_replica
            else None
        )
        state = "missed" if violated else "is at risk"
        out.append(
            Advice(
                kind="scale_out",
                severity="critical" if violated else "warning",
                message=(
                    f"{worst.label} {state}: {worst.observed:.0f} ms against {worst.target:.0f} ms "
                    f"({ratio:.0%} of target). Scale out from {plan.replicas} to {needed} replicas"
                    + (f" (about ${-cost:,.0f}/month more)" if cost else "")
                    + "."
                ),
                saving_usd_month=round(cost, 2) if cost is not None else None,
                suggested_replicas=needed,
            )
        )
        nxt = _next_gpu(plan.gpu_id)
        if memory_bound or ratio > 1.5:
            why = (
                f"the KV cache peaked at {stats.kv_cache_usage_max:.0%}"
                + (f" with {stats.preemptions_per_s:.2f} preemptions/s" if stats.preemptions_per_s else "")
                if memory_bound
                else f"{worst.label} is {ratio:.1f}x its target, more than replicas alone fix cheaply"
            )
            out.append(
                Advice(
                    kind="next_gpu",
                    severity="warning",
                    message=f"Consider {'the ' + nxt if nxt else 'a larger GPU'}: {why}.",
                    suggested_gpu=nxt,
                )
            )
    elif (
        plan.replicas > 1
        and latency
        and all(s.observed is not None and s.observed <= HEADROOM * s.target for s in latency)
        and plan.capacity_rps_per_replica
        and per_replica < 0.5 * plan.capacity_rps_per_replica
    ):
        needed = max(1, math.ceil(stats.request_rate / (plan.capacity_rps_per_replica * TARGET_UTILISATION)))
        if needed < plan.replicas:
            saving = (
                (plan.replicas - needed) * plan.hourly_usd_per_replica * HOURS_PER_MONTH
                if plan.hourly_usd_per_replica
                else None
            )
            out.append(
                Advice(
                    kind="scale_in",
                    severity="info",
                    message=(
                        f"Utilisation is low ({per_replica:.2f} of {plan.capacity_rps_per_replica:.2f} "
                        f"req/s per replica) and every SLO has headroom: {needed} replicas would do "
                        f"instead of {plan.replicas}"
                        + (f", saving about ${saving:,.0f}/month." if saving else ".")
                    ),
                    saving_usd_month=round(saving, 2) if saving is not None else None,
                    suggested_replicas=needed,
                )
            )
    out.extend(_drift(stats, plan))
    return out or [
        Advice(kind="ok", severity="info", message="SLOs met with reasonable utilisation; no change")
    ]


def _drift(stats: WindowStats, plan: PlanFacts) -> list[Advice]:
    notes: list[str] = []
    if plan.expected_qps and stats.request_rate > 0:
        ratio = stats.request_rate / plan.expected_qps
        peak = plan.peak_qps or plan.expected_qps
        if stats.request_rate > peak * 1.2 or ratio < 0.5:
            notes.append(
                f"{stats.request_rate:.2f} req/s against {plan.expected_qps:.2f} planned ({ratio:.0%})"
            )
    if stats.requests > 0:
        prompt_avg = stats.prompt_tokens_per_s / stats.request_rate if stats.request_rate else 0.0
        out_avg = stats.output_tokens_per_s / stats.request_rate if stats.request_rate else 0.0
        for label, seen, planned in (
            ("prompt", prompt_avg, plan.prompt_tokens_avg),
            ("output", out_avg, plan.output_tokens_avg),
        ):
            if planned and seen and not 0.67 <= seen / planned <= 1.5:
                notes.append(f"{label} length {seen:.0f} tokens against {planned:.0f} planned")
    if not notes:
        return []
    return [
        Advice(
            kind="drift",
            severity="warning",
            message="Traffic is no longer what was specified: "
            + "; ".join(notes)
            + ". Re-plan with the observed traffic.",
        )
    ]
