"""`/api/deployments`: the deployment operations over HTTP, owner-scoped by the caller's API token.

Long operations (deploy, rollback, delete) run as server-side tasks that keep going when the client goes
away. With `?stream=true` the response is NDJSON: one progress event per line, the last one `finished`.
Without it the call answers 202 with the deployment once the operation has started (so a busy or invalid
deployment is still a 409/422 at once), and GET shows how it went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api_auth import CurrentPrincipal
from app.config import get_settings
from app.deploy import service
from app.deploy.events import ProgressEvent
from app.deploy.from_recommendation import plan_from_recommendation
from app.deploy.plan import DeploymentPlan
from app.errors import Invalid
from app.services.bounds import Name, check_no_nul_anywhere
from db.session import get_engine, session_scope

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/deployments", tags=["deployments"])

# Running operations, so they are not garbage-collected while a client is gone.
_TASKS: set[asyncio.Task[None]] = set()
_DONE = object()


class DeployRequest(BaseModel):
    """What a caller may choose. Server paths (manifest output directory, kubeconfig) are server settings
    (PREFLIGHT_DEPLOY_OUTPUT_DIR, PREFLIGHT_KUBECONFIG), never request fields: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    recommendation_id: Name | None = Field(None, description="deploy this recommendation's option ...")
    option: int = Field(1, ge=1, le=100, description="... of this rank")
    plan: dict[str, Any] | None = Field(None, description="or this DeploymentPlan")
    target: Literal["local", "kubernetes"] = "local"
    mode: Literal["simulator", "real"] | None = Field(
        None, description="default: simulator locally, else real"
    )
    namespace: Name = "default"
    replicas: int | None = Field(None, ge=1, le=1000)
    dry_run: bool = Field(False, description="render, validate and preview only")
    context: Name | None = Field(None, description="kubeconfig context (of the server's kubeconfig)")
    ready_timeout_s: float = Field(600.0, gt=0, le=7200, allow_inf_nan=False)


async def _start(make: Callable[[], AsyncIterator[ProgressEvent]], stream: bool) -> StreamingResponse | None:
    """Run the operation as a task feeding a queue; fail fast (as HTTP errors) before its first event."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def run() -> None:
        try:
            async for ev in make():
                queue.put_nowait(ev)
        except Exception as e:  # handed to the request (before the first event) or logged (after)
            queue.put_nowait(e)
            log.warning("deployment operation failed: %s", e)
        finally:
            queue.put_nowait(_DONE)

    task = asyncio.create_task(run())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    first = await queue.get()
    if isinstance(first, Exception):
        raise first
    if not stream:
        return None

    async def body() -> AsyncIterator[bytes]:
        item = first
        while item is not _DONE:
            if isinstance(item, Exception):
                break
            yield (item.model_dump_json() + "\n").encode()
            item = await queue.get()

    return StreamingResponse(body(), media_type="application/x-ndjson")


@router.get("")
async def list_deployments(
    principal: CurrentPrincipal, include_deleted: bool = Query(False)
) -> list[service.DeploymentView]:
    async with session_scope() as s:
        return await service.list_deployments(principal=principal, session=s, include_deleted=include_deleted)


@router.get("/{deployment_id}")
async def get_deployment(deployment_id: str, principal: CurrentPrincipal) -> service.DeploymentDetail:
    async with session_scope() as s:
        return await service.get_deployment(deployment_id, principal=principal, session=s)


@router.post("", response_model=None)
async def create_and_deploy(
    req: DeployRequest, principal: CurrentPrincipal, stream: bool = Query(False)
) -> Any:
    """Deploy a recommendation option or a plan (or, with dry_run, preview it)."""
    if (req.recommendation_id is None) == (req.plan is None):
        raise Invalid("give exactly one of recommendation_id or plan")
    mode = req.mode or ("simulator" if req.target == "local" else "real")
    settings = get_settings()
    kubeconfig = str(settings.kubeconfig) if settings.kubeconfig else None
    if req.plan is not None:
        check_no_nul_anywhere(req.plan, "plan")
    async with session_scope() as s:
        extra: dict[str, Any] = {}
        if req.recommendation_id is not None:
            src = await plan_from_recommendation(
                req.recommendation_id,
                req.option,
                principal=principal,
                session=s,
                mode=mode,
                namespace=req.namespace,
                replicas=req.replicas,
            )
            plan = src.plan
            extra = src.provenance()
        else:
            plan = DeploymentPlan.model_validate(req.plan)
        output_dir = settings.deploy_output_dir
        if req.dry_run:
            target: Any = None
            if req.target == "kubernetes":
                from app.deploy.targets.kube_adapter import KubernetesDeployTarget

                target = await KubernetesDeployTarget.connect(kubeconfig, req.context)
            try:
                return await service.preview(plan, target=target, output_dir=output_dir)
            finally:
                if target is not None:
                    await target.close()
        if output_dir is not None:
            await service.preview(plan, output_dir=output_dir)
        view = await service.create_deployment(
            plan,
            principal=principal,
            session=s,
            target=req.target,
            kubeconfig=kubeconfig,
            context=req.context,
            **extra,
        )
    engine = await get_engine()
    response = await _start(
        lambda: service.deploy(
            view.id, principal=principal, engine=engine, ready_timeout_s=req.ready_timeout_s
        ),
        stream,
    )
    return response or JSONResponse(status_code=202, content=view.model_dump(mode="json"))


@router.post("/{deployment_id}/deploy", response_model=None)
async def redeploy(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    """Apply the deployment's plan again (idempotent: nothing changes when nothing did)."""
    engine = await get_engine()
    response = await _start(lambda: service.deploy(deployment_id, principal=principal, engine=engine), stream)
    return response or await _accepted(deployment_id, principal)


@router.post("/{deployment_id}/rollback", response_model=None)
async def rollback(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    engine = await get_engine()
    response = await _start(
        lambda: service.rollback(deployment_id, principal=principal, engine=engine), stream
    )
    return response or await _accepted(deployment_id, principal)


@router.delete("/{deployment_id}", response_model=None)
async def delete(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    engine = await get_engine()
    response = await _start(lambda: service.delete(deployment_id, principal=principal, engine=engine), stream)
    return response or await _accepted(deployment_id, principal)


@router.post("/{deployment_id}/cancel")
async def cancel(deployment_id: str, principal: CurrentPrincipal) -> list[ProgressEvent]:
    return await service.cancel(deployment_id, principal=principal, engine=await get_engine())


async def _accepted(deployment_id: str, principal: Any) -> JSONResponse:
    async with session_scope() as s:
        d = await service.get_deployment(deployment_id, principal=principal, session=s)
    return JSONResponse(
        status_code=202, content=service.DeploymentView(**d.model_dump()).model_dump(mode="json")
    )
