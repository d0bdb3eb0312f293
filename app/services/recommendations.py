"""Recommend: a specification (or a request in words) in, ranked options out, stored under the caller."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import Invalid
from app.intent.schema import Specification
from app.planning.cost import ALL_RENTAL_KINDS
from app.planning.plan import PlanSettings
from app.planning.result import RecommendationResult
from app.services.bounds import FiniteFloat, Text, check_no_nul_anywhere
from app.services.context import Context
from app.services.planner import get_recommendation as _get
from app.services.planner import recommend as _recommend
from app.services.specify import specification_from_text
from app.services.workers import cpu_pool


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specification: dict[str, Any] | None = Field(default=None, description="A Specification (JSON)")
    text: Text | None = Field(default=None, description="Or the request in words")
    top: int = Field(default=5, ge=1, le=10)
    pricing: list[str] = Field(
        default_factory=lambda: ["on_demand", "list_per_gpu_hour"], min_length=1, max_length=10
    )
    space_usd_per_gpu_month: FiniteFloat | None = Field(default=None, ge=0, le=1e6)

    @model_validator(mode="after")
    def _one_source(self) -> RecommendRequest:
        if (self.specification is None) == (self.text is None):
            raise ValueError("send either 'specification' or 'text'")
        bad = [k for k in self.pricing if k not in ALL_RENTAL_KINDS]
        if bad:
            raise ValueError(f"pricing: unknown kind(s) {bad}; use {list(ALL_RENTAL_KINDS)}")
        return self


def specification_of(data: dict[str, Any]) -> Specification:
    """A hand-written or hand-edited specification: values without an origin are marked stated/edited."""
    check_no_nul_anywhere(data, "specification")
    origins = dict(data.get("origins") or {})
    label = "edited" if origins else "stated"
    for key, value in data.items():
        if key in Specification.editable_fields() and value not in (None, []) and key not in origins:
            origins[key] = label
    return Specification.model_validate({**data, "origins": origins})


async def recommend(req: RecommendRequest, ctx: Context) -> RecommendationResult:
    """Plan ``req`` on the worker pool and store the result owned by the caller."""
    settings = PlanSettings(
        top_k=req.top, rental_kinds=tuple(req.pricing), space_usd_per_gpu_month=req.space_usd_per_gpu_month
    )
    if req.specification is not None:
        spec = specification_of(req.specification)
    elif req.text is not None:
        spec = await specification_from_text(req.text, ctx)
    else:  # the validator makes this unreachable; kept so a bypassed validator is a clear error
        raise Invalid("send either 'specification' or 'text'")
    return await recommend_specification(spec, ctx, input_text=req.text, settings=settings)


async def recommend_specification(
    spec: Specification,
    ctx: Context,
    *,
    input_text: str | None = None,
    settings: PlanSettings | None = None,
) -> RecommendationResult:
    """Plan an already-built specification (the chat's, a replan's) the same way."""
    return await _recommend(
        spec,
        session=ctx.session,
        principal=ctx.principal,
        input_text=input_text,
        settings=settings,
        offload=cpu_pool(ctx.settings).run,
    )


async def get_recommendation(recommendation_id: str, ctx: Context) -> RecommendationResult:
    """A stored recommendation: the caller's own (admins: any); another person's reads as not found."""
    return await _get(recommendation_id, session=ctx.session, principal=ctx.principal)
