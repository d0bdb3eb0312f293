"""Outcomes: what a deployment actually did, stored with an embedding of its description.

An outcome is recorded at the end of a load test or of an observation window. It keeps the observed SLIs,
the traffic seen, the cost, the SLO compliance and the prediction made for it, so that later:
- similar past outcomes are found by pgvector cosine distance and summarised on a recommendation
  ("3 similar deployments ran at 85-92% of predicted throughput");
- ``app.observe.learning`` turns observed/predicted ratios into correction factors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.observe.loadtest import LoadTestReport
from app.observe.slo import SloStatus
from db import models as m

logger = logging.getLogger(__name__)


class DeploymentConfig(BaseModel):
    """The configuration an outcome belongs to (the key of the learning)."""

    model_config = ConfigDict(extra="forbid")

    model_id: str
    gpu_id: str
    engine: str = "vllm"
    tp: int = 1
    precision: str = "bf16"

    def describe(self) -> str:
        return f"{self.model_id} on {self.tp}x {self.gpu_id}, {self.precision}, {self.engine}"


def describe_deployment(config: DeploymentConfig, spec: Mapping[str, Any] | None = None) -> str:
    """The text that is embedded: the use case in the person's words, the traffic and the configuration."""
    request = describe_request(spec or {})
    return f"{request}; {config.describe()}" if request else config.describe()


def describe_request(spec: Mapping[str, Any]) -> str:
    """The use case and traffic of a specification, worded as ``describe_deployment`` words them (the text
    a recommendation searches similar outcomes with, before any configuration is chosen)."""
    parts = []
    if spec.get("use_case_description"):
        parts.append(str(spec["use_case_description"]))
    elif spec.get("task_type"):
        parts.append(f"{spec['task_type']} workload")
    traffic = []
    if spec.get("expected_qps"):
        traffic.append(f"{spec['expected_qps']} req/s")
    if spec.get("prompt_length_avg"):
        traffic.append(f"{spec['prompt_length_avg']} prompt tokens")
    if spec.get("generation_length_avg"):
        traffic.append(f"{spec['generation_length_avg']} output tokens")
    if traffic:
        parts.append("traffic " + ", ".join(traffic))
    return "; ".join(parts)


def observed_from_report(report: LoadTestReport) -> dict[str, Any]:
    """A load test report in the shape of a prediction (so the two compare key by key)."""
    return {
        "ttft_ms": report.ttft_ms.model_dump(),
        "itl_ms": report.itl_ms.model_dump(),
        "tpot_ms": report.tpot_ms.model_dump(),
        "e2e_ms": report.e2e_ms.model_dump(),
        "output_tokens_per_s": report.output_tokens_per_s,
        "requests_per_s": report.requests_per_s,
        "error_rate": report.error_rate,
        "goodput": report.goodput,
    }


async def record_outcome(
    config: DeploymentConfig,
    *,
    session: AsyncSession,
    observed: Mapping[str, Any],
    predicted: Mapping[str, Any],
    kind: str = "loadtest",
    deployment_id: uuid.UUID | None = None,
    description: str | None = None,
    spec: Mapping[str, Any] | None = None,
    traffic: Mapping[str, Any] | None = None,
    cost: Mapping[str, Any] | None = None,
    compliance: Sequence[SloStatus] | Mapping[str, Any] | None = None,
) -> m.DeploymentOutcome:
    """Store one outcome with the embedding of its description; returns the row (flushed, with its id)."""
    from app.embeddings import embed_one

    text = description or describe_deployment(config, spec)
    if isinstance(compliance, Mapping):
        comp: dict[str, Any] = dict(compliance)
    else:
        comp = {"slos": [s.model_dump() for s in compliance or []]}
    row = m.DeploymentOutcome(
        deployment_id=deployment_id,
        kind=kind,
        description=text,
        model_id=config.model_id,
        gpu_id=config.gpu_id,
        tp=config.tp,
        engine=config.engine,
        precision=config.precision,
        observed=dict(observed),
        predicted=_plain(predicted),
        traffic=dict(traffic or {}),
        cost=dict(cost or {}),
        compliance=comp,
        embedding=embed_one(text),
    )
    session.add(row)
    await session.flush()
    logger.info("outcome %s recorded for %s", row.id, config.describe())
    return row


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """Prediction values as plain JSON (a pydantic model's dump passes through)."""
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        return dict(dump(mode="json"))
    return dict(data)


def traffic_from_report(report: LoadTestReport) -> dict[str, Any]:
    return {
        "profile": report.profile,
        "rate": report.rate,
        "concurrency": report.concurrency,
        "requests": report.requests,
        "duration_s": report.duration_s,
        "prompt_tokens_avg": report.prompt_tokens_avg,
        "output_tokens_avg": report.output_tokens_avg,
        "concurrency_mean": report.concurrency_mean,
    }


class SimilarOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    description: str
    distance: float
    model_id: str | None
    gpu_id: str | None
    engine: str | None
    throughput_ratio: float | None = Field(description="Observed / predicted output tokens per second")
    ttft_ratio: float | None = None
    tpot_ratio: float | None = None


def ratio(
    observed: Mapping[str, Any], predicted: Mapping[str, Any], metric: str, stat: str | None
) -> float | None:
    """observed / predicted of one metric (``stat`` picks a field of a Stats-shaped value)."""
    o, p = observed.get(metric), predicted.get(metric)
    if stat is not None:
        o = o.get(stat) if isinstance(o, Mapping) else None
        p = p.get(stat) if isinstance(p, Mapping) else None
    if not isinstance(o, (int, float)) or not isinstance(p, (int, float)) or p <= 0 or o <= 0:
        return None
    return float(o) / float(p)


async def similar_outcomes(
    text: str,
    *,
    session: AsyncSession,
    limit: int = 5,
    max_distance: float = 0.5,
    embedding: Sequence[float] | None = None,
) -> list[SimilarOutcome]:
    """Past outcomes whose description is closest to ``text`` (cosine distance at most ``max_distance``);
    ``embedding`` is ``text``'s, when the caller already has it."""
    from app.embeddings import embed_one

    q = list(embedding) if embedding is not None else embed_one(text)
    dist = m.DeploymentOutcome.embedding.cosine_distance(q).label("distance")
    rows = (
        await session.execute(
            select(m.DeploymentOutcome, dist)
            .where(m.DeploymentOutcome.embedding.is_not(None))
            .order_by(dist)
            .limit(limit)
        )
    ).all()
    out = []
    for row, d in rows:
        if d is None or d > max_distance:
            continue
        out.append(
            SimilarOutcome(
                id=row.id,
                description=row.description,
                distance=round(float(d), 4),
                model_id=row.model_id,
                gpu_id=row.gpu_id,
                engine=row.engine,
                throughput_ratio=ratio(row.observed, row.predicted, "output_tokens_per_s", None),
                ttft_ratio=ratio(row.observed, row.predicted, "ttft_ms", "p90"),
                tpot_ratio=ratio(row.observed, row.predicted, "tpot_ms", "p90"),
            )
        )
    return out


def summarize_similar(similar: Sequence[SimilarOutcome]) -> str | None:
    """One line for a recommendation card, e.g. '3 similar deployments ran at 85-92% of predicted
    throughput'; None without comparable outcomes."""
    ratios = sorted(s.throughput_ratio for s in similar if s.throughput_ratio is not None)
    if not ratios:
        return None
    n = len(ratios)
    lo, hi = round(ratios[0] * 100), round(ratios[-1] * 100)
    span = f"{lo}%" if lo == hi else f"{lo}-{hi}%"
    noun = "deployment" if n == 1 else "deployments"
    line = f"{n} similar {noun} ran at {span} of predicted throughput"
    ttft = sorted(s.ttft_ratio for s in similar if s.ttft_ratio is not None)
    if ttft:
        tl, th = round(ttft[0] * 100), round(ttft[-1] * 100)
        line += f", with TTFT p90 at {tl}%" + (f"-{th}%" if th != tl else "") + " of predicted"
    return line
