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
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field

from app.api_auth import Ctx, CurrentPrincipal
from app.deploy import service
from app.deploy.events import ProgressEvent
from app.errors import kind_of
from app.services import deployments
from app.services.bounds import Name
from app.services.context import unit_of_work

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/deployments", tags=["deployments"])

# Running operations, so they are not garbage-collected while a client is gone.
_TASKS: set[asyncio.Task[None]] = set()
_DONE = object()


class DeployRequest(deployments.DeployRequest):
    """A deployment request; ``dry_run`` previews it (render, validate, server-side dry run) instead."""

    dry_run: bool = Field(False, description="render, validate and preview only")


async def _start(make: Callable[[], AsyncIterator[ProgressEvent]], stream: bool) -> StreamingResponse | None:
    """Run the operation as a task feeding a queue; fail fast (as HTTP errors) before its first event."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def run() -> None:
        answered = False
        try:
            async for ev in make():
                queue.put_nowait(ev)
                answered = True
        except Exception as e:  # handed to the request (before the first event) or logged here (after)
            queue.put_nowait(e)
            if kind_of(e) is not None:
                log.warning("deployment operation failed: %s", e)
            elif answered:  # a bug after the answer started: no other layer sees it, so its one traceback
                log.error("deployment operation failed unexpectedly", exc_info=e)
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
async def list_deployments(ctx: Ctx, include_deleted: bool = Query(False)) -> list[service.DeploymentView]:
    return await deployments.list_all(ctx, include_deleted=include_deleted)


@router.get("/{deployment_id}")
async def get_deployment(deployment_id: Name, ctx: Ctx) -> service.DeploymentDetail:
    return await deployments.get(deployment_id, ctx)


@router.post("", response_model=None)
async def create_and_deploy(
    req: DeployRequest, principal: CurrentPrincipal, stream: bool = Query(False)
) -> Any:
    """Deploy a recommendation option or a plan (or, with dry_run, preview it)."""
    async with unit_of_work(principal) as ctx:
        paths = deployments.ServerPaths.from_settings(ctx.settings)
        planned = await deployments.plan(req, ctx)
        if req.dry_run:
            return await deployments.preview(planned, paths)
        view = await deployments.create(planned, ctx, paths)
    response = await _start(
        lambda: deployments.run(view.id, principal, ready_timeout_s=req.ready_timeout_s), stream
    )
    return response or JSONResponse(status_code=202, content=view.model_dump(mode="json"))


@router.post("/{deployment_id}/deploy", response_model=None)
async def redeploy(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    """Apply the deployment's plan again (idempotent: nothing changes when nothing did)."""
    response = await _start(lambda: deployments.run(deployment_id, principal), stream)
    return response or await _accepted(deployment_id, principal)


@router.post("/{deployment_id}/rollback", response_model=None)
async def rollback(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    response = await _start(lambda: deployments.rollback(deployment_id, principal), stream)
    return response or await _accepted(deployment_id, principal)


@router.delete("/{deployment_id}", response_model=None)
async def delete(deployment_id: str, principal: CurrentPrincipal, stream: bool = Query(False)) -> Any:
    response = await _start(lambda: deployments.delete(deployment_id, principal), stream)
    return response or await _accepted(deployment_id, principal)


@router.post("/{deployment_id}/cancel")
async def cancel(deployment_id: str, principal: CurrentPrincipal) -> list[ProgressEvent]:
    return await deployments.cancel(deployment_id, principal)


async def _accepted(deployment_id: str, principal: Any) -> JSONResponse:
    async with unit_of_work(principal) as ctx:
        d = await deployments.get(deployment_id, ctx)
    return JSONResponse(
        status_code=202, content=service.DeploymentView(**d.model_dump()).model_dump(mode="json")
    )
