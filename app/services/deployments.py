"""Deployments: plan (from a recommendation option or a plan), preview, create, run, cancel, roll back,
delete, read. The one deploy flow the API, the CLI and the chat share.

Server paths never come from a request: where manifests are also written (GitOps) and which kubeconfig the
server uses are :class:`ServerPaths`, from the settings (API, chat) or from admin-only CLI options.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.auth import Principal
from app.config import Settings
from app.deploy import service
from app.deploy.events import ProgressEvent
from app.deploy.from_recommendation import deployment_name, load_option, plan_from_recommendation
from app.deploy.plan import DeploymentPlan
from app.deploy.targets.local import MAX_LOCAL_REPLICAS
from app.errors import Conflict, Forbidden, Invalid
from app.planning.result import Option
from app.services.bounds import Name, check_no_nul_anywhere
from app.services.context import Context
from db import models as m
from db.session import get_engine

Target = Literal["local", "kubernetes"]
Mode = Literal["simulator", "real"]


class DeployRequest(BaseModel):
    """What a caller may choose; unknown fields (``output_dir``, ``kubeconfig``) are refused."""

    model_config = ConfigDict(extra="forbid")

    recommendation_id: Name | None = Field(None, description="deploy this recommendation's option ...")
    option: int = Field(1, ge=1, le=100, description="... of this rank")
    plan: dict[str, Any] | None = Field(None, description="or this DeploymentPlan")
    target: Target = "local"
    mode: Mode | None = Field(None, description="default: simulator locally, else real")
    namespace: Name = "default"
    replicas: int | None = Field(None, ge=1, le=1000)
    context: Name | None = Field(None, description="kubeconfig context (of the server's kubeconfig)")
    ready_timeout_s: float = Field(600.0, gt=0, le=7200, allow_inf_nan=False)


@dataclass(frozen=True)
class ServerPaths:
    output_dir: Path | None = None
    kubeconfig: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerPaths:
        return cls(
            output_dir=settings.deploy_output_dir,
            kubeconfig=str(settings.kubeconfig) if settings.kubeconfig else None,
        )

    def check_allowed(self, principal: Principal) -> None:
        """Options that name server paths are for administrators (the CLI's --output-dir/--kubeconfig)."""
        if (self.output_dir or self.kubeconfig) and not principal.is_admin:
            raise Forbidden(
                "--output-dir and --kubeconfig name server paths: only administrators may set them"
            )


@dataclass
class PlannedDeployment:
    """A plan and where it came from; ``existing`` when a plan file names a deployment that exists."""

    plan: DeploymentPlan
    target: Target
    context: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    existing: bool = False


async def plan(req: DeployRequest, ctx: Context) -> PlannedDeployment:
    """The DeploymentPlan the request names (the caller's recommendation, or a plan); changes nothing."""
    if (req.recommendation_id is None) == (req.plan is None):
        raise Invalid("give exactly one of recommendation_id or plan")
    mode: Mode = req.mode or ("simulator" if req.target == "local" else "real")
    if req.recommendation_id is not None:
        src = await plan_from_recommendation(
            req.recommendation_id,
            req.option,
            principal=ctx.principal,
            session=ctx.session,
            mode=mode,
            namespace=req.namespace,
            replicas=req.replicas,
        )
        _check_target_bounds(src.plan, req.target)
        return PlannedDeployment(src.plan, req.target, req.context, src.provenance())
    assert req.plan is not None
    check_no_nul_anywhere(req.plan, "plan")
    data = dict(req.plan)
    data.setdefault("deployment_id", str(uuid.uuid4()))
    data.setdefault("name", deployment_name(str(data.get("model_id", "model")), str(data["deployment_id"])))
    the_plan = DeploymentPlan.model_validate(data)
    try:
        existing = await ctx.session.get(m.Deployment, uuid.UUID(the_plan.deployment_id)) is not None
    except ValueError as e:
        raise Invalid(f"plan.deployment_id {the_plan.deployment_id!r} is not a UUID") from e
    _check_target_bounds(the_plan, req.target)
    return PlannedDeployment(the_plan, req.target, req.context, existing=existing)


async def option_of(recommendation_id: str, rank: int, ctx: Context) -> Option:
    """Option ``rank`` of one of the caller's stored recommendations (admins: any), e.g. to size a draft."""
    _, _, option = await load_option(recommendation_id, rank, principal=ctx.principal, session=ctx.session)
    return option


def _check_target_bounds(the_plan: DeploymentPlan, target: Target) -> None:
    """A replica count the target cannot run is refused, never quietly lowered."""
    if target == "local" and the_plan.replicas_min > MAX_LOCAL_REPLICAS:
        raise Invalid(
            f"replicas: {the_plan.replicas_min} is above the local target's limit of {MAX_LOCAL_REPLICAS} "
            "replica processes; ask for fewer or deploy to the kubernetes target"
        )


# States whose deployment holds (or is about to hold) resources; deleted and failed ones hold none.
_HOLDING = ("planned", "validating", "applying", "waiting_ready", "ready", "rolling_back", "rolled_back")


async def _check_quota(planned: PlannedDeployment, ctx: Context) -> None:
    """Per-person limits on active deployments and on local replica processes (administrators exempt).

    The person's row is locked first so two concurrent creates cannot both slip under the limit."""
    principal = ctx.principal
    if principal.is_admin or principal.id is None:
        return
    await ctx.session.execute(select(m.User.id).where(m.User.id == principal.id).with_for_update())
    rows = (
        await ctx.session.execute(
            select(m.Deployment.id, m.Deployment.target, m.Deployment.plan).where(
                m.Deployment.owner_id == principal.id, m.Deployment.state.in_(_HOLDING)
            )
        )
    ).all()
    own_id = planned.plan.deployment_id
    others = [r for r in rows if str(r.id) != own_id]
    settings = ctx.settings
    if not planned.existing and len(others) >= settings.deploy_max_active_per_user:
        raise Conflict(
            f"deployment quota reached: you have {len(others)} active deployments and the limit is "
            f"{settings.deploy_max_active_per_user} (deploy_max_active_per_user); delete one first"
        )
    if planned.target != "local":
        return
    running = sum(int((r.plan or {}).get("replicas_min", 1)) for r in others if r.target == "local")
    wanted = planned.plan.replicas_min
    if running + wanted > settings.deploy_max_local_replicas_per_user:
        raise Conflict(
            f"local replica quota reached: your active local deployments run {running} replicas, this one "
            f"asks for {wanted}, and the limit is {settings.deploy_max_local_replicas_per_user} "
            "(deploy_max_local_replicas_per_user); delete or shrink a deployment first"
        )


async def preview(planned: PlannedDeployment, paths: ServerPaths) -> service.Preview:
    """Render, validate, write the files when the server keeps them, and (on a cluster) a server-side dry
    run. Changes nothing anywhere else."""
    runtime = {"kubeconfig": paths.kubeconfig, "context": planned.context}
    target = await service.default_target_factory(planned.target, runtime)
    try:
        return await service.preview(planned.plan, target=target, output_dir=paths.output_dir)
    finally:
        await target.close()


async def create(planned: PlannedDeployment, ctx: Context, paths: ServerPaths) -> service.DeploymentView:
    """Record the deployment (state ``planned``; a new revision for an existing one) without running it.
    Enforces the person's deployment and local-replica quotas."""
    await _check_quota(planned, ctx)
    if paths.output_dir is not None:
        await service.preview(planned.plan, output_dir=paths.output_dir)
    if planned.existing:
        return await service.update_plan(
            planned.plan.deployment_id, planned.plan, principal=ctx.principal, session=ctx.session
        )
    return await service.create_deployment(
        planned.plan,
        principal=ctx.principal,
        session=ctx.session,
        target=planned.target,
        kubeconfig=paths.kubeconfig if planned.target == "kubernetes" else None,
        context=planned.context,
        **planned.provenance,
    )


async def run(
    deployment_id: str, principal: Principal, *, ready_timeout_s: float = 600.0
) -> AsyncIterator[ProgressEvent]:
    """Apply the deployment's plan (idempotent), yielding progress; holds the deployment's lock."""
    engine = await get_engine()
    async for ev in service.deploy(
        deployment_id, principal=principal, engine=engine, ready_timeout_s=ready_timeout_s
    ):
        yield ev


async def rollback(deployment_id: str, principal: Principal) -> AsyncIterator[ProgressEvent]:
    engine = await get_engine()
    async for ev in service.rollback(deployment_id, principal=principal, engine=engine):
        yield ev


async def delete(deployment_id: str, principal: Principal) -> AsyncIterator[ProgressEvent]:
    engine = await get_engine()
    async for ev in service.delete(deployment_id, principal=principal, engine=engine):
        yield ev


async def cancel(deployment_id: str, principal: Principal) -> list[ProgressEvent]:
    return await service.cancel(deployment_id, principal=principal, engine=await get_engine())


async def stop_all_local(principal: Principal) -> AsyncIterator[ProgressEvent]:
    """Stop the processes of every live local deployment the principal may act on (their own; admins all)."""
    async for ev in service.stop_all_local(principal=principal, engine=await get_engine()):
        yield ev


async def reconcile(principal: Principal, *, resume: bool = True) -> list[service.ReconcileResult]:
    """Resume (or cleanly fail) every deployment a stopped Preflight process left in flight. It acts on
    everyone's deployments, so only an administrator (the local operator) may run it."""
    if not principal.is_admin:
        raise Forbidden("only an administrator can reconcile in-flight deployments")
    return await service.reconcile(engine=await get_engine(), resume=resume)


async def get(deployment_id: str, ctx: Context) -> service.DeploymentDetail:
    return await service.get_deployment(deployment_id, principal=ctx.principal, session=ctx.session)


async def list_all(ctx: Context, *, include_deleted: bool = False) -> list[service.DeploymentView]:
    return await service.list_deployments(
        principal=ctx.principal, session=ctx.session, include_deleted=include_deleted
    )


async def owners_and_specifications(
    deployment_ids: list[str], ctx: Context
) -> tuple[dict[int, str], dict[str, dict[str, Any]]]:
    """Owner names (by user id) and stored specifications (by deployment id) of those of ``deployment_ids``
    the caller may see (their own; admins: any)."""
    keys = []
    for d in deployment_ids:
        try:
            keys.append(uuid.UUID(d))
        except ValueError:
            continue
    stmt = select(m.Deployment.id, m.Deployment.owner_id, m.Deployment.specification).where(
        m.Deployment.id.in_(keys)
    )
    if not ctx.principal.is_admin:
        stmt = stmt.where(m.Deployment.owner_id == ctx.principal.id)
    rows = (await ctx.session.execute(stmt)).all()
    owner_ids = {owner for _, owner, _ in rows if owner is not None}
    names = (await ctx.session.execute(select(m.User.id, m.User.name).where(m.User.id.in_(owner_ids)))).all()
    return {int(i): str(n) for i, n in names}, {str(i): spec or {} for i, _, spec in rows}
