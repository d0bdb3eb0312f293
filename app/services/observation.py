"""Observation of a deployment the caller owns: health, SLO compliance, advice, and its time series.

The window is cut into steps; a request may ask for at most ``observation_max_points`` of them (a tiny step
over a long window would otherwise mean millions of per-step evaluations). The per-step work runs on the
worker pool.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import Invalid, NotFound
from app.observe.learning import Corrections, load_corrections
from app.observe.outcomes import SimilarOutcome, similar_outcomes, summarize_similar
from app.observe.service import Observation, SeriesPoint, observe_deployment, timeseries
from app.services.bounds import FiniteFloat, Name
from app.services.context import Context
from app.services.workers import cpu_pool
from db import models as m

MAX_WINDOW_S = 30 * 86400.0
MIN_STEP_S = 1.0


class WindowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_id: str = Field(max_length=64)
    window_s: FiniteFloat = Field(default=300.0, gt=0, le=MAX_WINDOW_S)
    step_s: FiniteFloat = Field(default=60.0, ge=MIN_STEP_S, le=MAX_WINDOW_S)

    @model_validator(mode="after")
    def _step_not_longer_than_window(self) -> WindowRequest:
        if self.step_s > self.window_s:
            raise ValueError(f"step_s ({self.step_s:g}) must not exceed window_s ({self.window_s:g})")
        return self


def check_points(req: WindowRequest, max_points: int) -> None:
    points = req.window_s / req.step_s
    if points > max_points:
        raise Invalid(
            f"window_s / step_s is {points:,.0f} steps; at most {max_points:,} are allowed: "
            f"raise step_s to at least {req.window_s / max_points:g} s or shorten window_s"
        )


async def owned_deployment(deployment_id: str, ctx: Context) -> m.Deployment:
    """The caller's deployment (admins: anyone's); another person's reads exactly like a missing one."""
    try:
        key = uuid.UUID(deployment_id)
    except ValueError as e:
        raise NotFound(f"no deployment with id {deployment_id}") from e
    dep = await ctx.session.get(m.Deployment, key)
    if dep is None or (not ctx.principal.is_admin and dep.owner_id != ctx.principal.id):
        raise NotFound(f"no deployment with id {deployment_id}")
    return dep


async def observe(req: WindowRequest, ctx: Context) -> Observation:
    check_points(req, ctx.settings.observation_max_points)
    dep = await owned_deployment(req.deployment_id, ctx)
    return await observe_deployment(
        dep.id,
        session=ctx.session,
        window_s=req.window_s,
        step_s=req.step_s,
        offload=cpu_pool(ctx.settings).run,
    )


async def series(req: WindowRequest, ctx: Context) -> list[SeriesPoint]:
    check_points(req, ctx.settings.observation_max_points)
    dep = await owned_deployment(req.deployment_id, ctx)
    return await timeseries(
        dep.id,
        session=ctx.session,
        window_s=req.window_s,
        step_s=req.step_s,
        offload=cpu_pool(ctx.settings).run,
    )


async def similar(text: str, ctx: Context, *, limit: int = 5) -> tuple[str | None, list[SimilarOutcome]]:
    """Past outcomes closest to a description (the encoder runs on the worker pool)."""
    from app.embeddings import embed_one

    embedding = await cpu_pool(ctx.settings).run(embed_one, text)
    found = await similar_outcomes(text, session=ctx.session, limit=limit, embedding=embedding)
    return summarize_similar(found), found


class CorrectionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_id: Name
    gpu_id: Name
    engine: Name = "vllm"


async def corrections(req: CorrectionsRequest, ctx: Context) -> Corrections:
    """The correction factors the next prediction of this configuration gets from stored outcomes."""
    return await load_corrections(req.model_id, req.gpu_id, req.engine, session=ctx.session)
