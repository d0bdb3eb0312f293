"""Stage 4's service calls, free of Chainlit: preview a deployment of an option, run it, watch it, test it.

Every call takes the acting :class:`Principal` and goes through the deployment service's owner-scoped
reads, so a person can only see, deploy, cancel, test or delete their own deployments (admins: all).
The handlers in :mod:`app.chat.deploy_handlers` render what these return.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from app.auth import Principal
from app.deploy import service
from app.deploy.events import ProgressEvent
from app.deploy.plan import DeploymentPlan
from app.deploy.smoke import base_url
from app.errors import Invalid, Unavailable
from app.services import deployments
from app.services.context import unit_of_work

Target = Literal["local", "kubernetes"]

# A laptop runs the simulator replicas as processes: keep a local run small whatever the option plans.
LOCAL_MAX_REPLICAS = 2
LIST_LIMIT = 10
INFERENCE_TIMEOUT_S = 60.0
INFERENCE_MAX_TOKENS = 64


class PendingDeploy(BaseModel):
    """A previewed deployment waiting for the person's confirmation (kept in the chat session only)."""

    deployment_id: str
    recommendation_id: str
    rank: int
    target: Target
    namespace: str
    plan: dict[str, Any]
    specification: dict[str, Any]
    prediction: dict[str, Any]
    note: str | None = Field(None, description="What differs from the option (e.g. fewer local replicas)")


@dataclass
class Draft:
    pending: PendingDeploy
    preview: service.Preview


async def draft(
    recommendation_id: str, rank: int, *, target: Target, namespace: str, principal: Principal
) -> Draft:
    """Build the plan for option ``rank`` and preview it (render, validate; on a cluster, a server-side
    dry run). Changes nothing anywhere."""
    note = None
    async with unit_of_work(principal) as ctx:
        option = await deployments.option_of(recommendation_id, rank, ctx)
        replicas = None
        if target == "local":
            replicas = min(option.min_replicas, LOCAL_MAX_REPLICAS)
            if replicas < option.min_replicas:
                note = (
                    f"locally this runs {replicas} simulator replicas instead of the {option.min_replicas} "
                    "the option plans; the simulator replays the predicted performance of each replica"
                )
        req = deployments.DeployRequest(
            recommendation_id=recommendation_id,
            option=rank,
            target=target,
            namespace=namespace,
            replicas=replicas,
        )
        planned = await deployments.plan(req, ctx)
    prev = await deployments.preview(planned, deployments.ServerPaths.from_settings(ctx.settings))
    pending = PendingDeploy(
        deployment_id=planned.plan.deployment_id,
        recommendation_id=str(planned.provenance["recommendation_id"]),
        rank=planned.provenance["option_index"],
        target=target,
        namespace=namespace,
        plan=planned.plan.model_dump(mode="json"),
        specification=planned.provenance["specification"],
        prediction=planned.provenance["prediction"],
        note=note,
    )
    return Draft(pending, prev)


async def create(pending: PendingDeploy, *, principal: Principal) -> service.DeploymentView:
    """Record the confirmed deployment (state ``planned``) exactly as it was previewed."""
    planned = deployments.PlannedDeployment(
        plan=DeploymentPlan.model_validate(pending.plan),
        target=pending.target,
        provenance={
            "recommendation_id": uuid.UUID(pending.recommendation_id),
            "option_index": pending.rank,
            "specification": pending.specification,
            "prediction": pending.prediction,
        },
    )
    async with unit_of_work(principal) as ctx:
        return await deployments.create(planned, ctx, deployments.ServerPaths.from_settings(ctx.settings))


async def run(deployment_id: str, *, principal: Principal) -> AsyncIterator[ProgressEvent]:
    async for ev in deployments.run(deployment_id, principal):
        yield ev


async def cancel(deployment_id: str, *, principal: Principal) -> list[ProgressEvent]:
    return await deployments.cancel(deployment_id, principal)


async def delete(deployment_id: str, *, principal: Principal) -> list[ProgressEvent]:
    return [ev async for ev in deployments.delete(deployment_id, principal)]


async def detail(deployment_id: str, *, principal: Principal) -> service.DeploymentDetail:
    async with unit_of_work(principal) as ctx:
        return await deployments.get(deployment_id, ctx)


# --- my deployments ----------------------------------------------------------------------------------------


@dataclass
class Watched:
    """A deployment as "my deployments" and the monitoring view show it."""

    detail: service.DeploymentDetail
    owner: str | None
    specification: dict[str, Any]
    observation: Any | None  # app.observe.service.Observation; None when nothing could be observed
    points: list[Any] = field(default_factory=list)  # app.observe.service.SeriesPoint


async def _observe(dep_id: str, *, principal: Principal, with_series: bool) -> tuple[Any | None, list[Any]]:
    """The observation (and the last hour's series) of one of the caller's deployments."""
    from app.services import observation

    async with unit_of_work(principal) as ctx:
        obs = await observation.observe(observation.WindowRequest(deployment_id=dep_id), ctx)
        points: list[Any] = []
        if with_series:
            req = observation.WindowRequest(deployment_id=dep_id, window_s=3600.0, step_s=30.0)
            points = await observation.series(req, ctx)
    return obs, points


async def my_deployments(
    *, principal: Principal, ids: list[str] | None = None, limit: int = LIST_LIMIT
) -> tuple[list[Watched], int]:
    """The person's deployments (admins: everyone's; only ``ids`` when given), newest first, with what was
    observed; and how many there are in all (deleted ones included: their history stays)."""
    async with unit_of_work(principal) as ctx:
        views = await deployments.list_all(ctx, include_deleted=True)
        if ids is not None:
            views = [v for v in views if v.id in set(ids)]
        details = [await deployments.get(v.id, ctx) for v in views[:limit]]
        owners, specs = await deployments.owners_and_specifications([d.id for d in details], ctx)
    out = []
    for d in details:
        obs = None
        if d.state != "deleted":
            obs, _ = await _observe(d.id, principal=principal, with_series=False)
        owner = owners.get(d.owner_id) if d.owner_id is not None else None
        out.append(Watched(d, owner, specs.get(d.id, {}), obs))
    return out, len(views)


async def watch(deployment_id: str, *, principal: Principal) -> Watched:
    """One deployment with its observation and latency series, for the monitoring view."""
    async with unit_of_work(principal) as ctx:
        d = await deployments.get(deployment_id, ctx)  # owner check first
        owners, specs = await deployments.owners_and_specifications([d.id], ctx)
    obs, points = await _observe(d.id, principal=principal, with_series=True)
    owner = owners.get(d.owner_id) if d.owner_id is not None else None
    return Watched(d, owner, specs.get(d.id, {}), obs, points)


# --- inline inference test ----------------------------------------------------------------------------------


class InferenceEndpointError(Unavailable, RuntimeError):
    """The deployment's endpoint could not answer; the message says what happened."""


class InferenceResult(BaseModel):
    ok: bool
    model: str
    tokens: int
    ttft_ms: float | None
    itl_ms_mean: float | None
    itl_ms_p50: float | None
    e2e_ms: float


@dataclass
class InferenceStream:
    """Stream one chat completion; iterate for the text chunks, then read :attr:`result`."""

    endpoint: str
    prompt: str
    model: str | None = None
    max_tokens: int = INFERENCE_MAX_TOKENS
    result: InferenceResult | None = None

    async def chunks(self) -> AsyncIterator[str]:
        root = base_url(self.endpoint)
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(INFERENCE_TIMEOUT_S)) as client:
                model = self.model or await _served_model(client, root)
                body = {
                    "model": model,
                    "messages": [{"role": "user", "content": self.prompt}],
                    "max_tokens": self.max_tokens,
                    "stream": True,
                }
                times: list[float] = []
                start = time.perf_counter()
                async with client.stream("POST", f"{root}/v1/chat/completions", json=body) as resp:
                    if resp.status_code != 200:
                        detail = (await resp.aread()).decode("utf-8", "replace")[:300]
                        raise InferenceEndpointError(
                            f"the endpoint answered HTTP {resp.status_code}: {detail}"
                        )
                    async for line in resp.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            break
                        for choice in json.loads(payload).get("choices") or []:
                            content = (choice.get("delta") or {}).get("content")
                            if content:
                                times.append(time.perf_counter())
                                yield content
                end = time.perf_counter()
        except httpx.HTTPError as e:
            raise InferenceEndpointError(
                f"could not reach the endpoint {root} ({type(e).__name__}); is the deployment still running?"
            ) from e
        except (ValueError, KeyError) as e:
            raise InferenceEndpointError(f"the endpoint sent something that is not a completion: {e}") from e
        gaps = [(b - a) * 1000 for a, b in itertools.pairwise(times)]
        self.result = InferenceResult(
            ok=bool(times),
            model=model,
            tokens=len(times),
            ttft_ms=round((times[0] - start) * 1000, 1) if times else None,
            itl_ms_mean=round(statistics.fmean(gaps), 1) if gaps else None,
            itl_ms_p50=round(statistics.median(gaps), 1) if gaps else None,
            e2e_ms=round((end - start) * 1000, 1),
        )


async def _served_model(client: httpx.AsyncClient, root: str) -> str:
    resp = await client.get(f"{root}/v1/models")
    resp.raise_for_status()
    data = resp.json().get("data") or []
    if not data:
        raise InferenceEndpointError("the endpoint serves no model (/v1/models is empty)")
    return str(data[0]["id"])


async def inference_stream(deployment_id: str, prompt: str, *, principal: Principal) -> InferenceStream:
    """An inference test through a deployment the person may see, once it is ready."""
    d = await detail(deployment_id, principal=principal)
    if d.state != "ready" or not d.endpoint:
        raise InferenceEndpointError(
            f"deployment {d.name} is {d.state}, not ready: there is no endpoint to send a prompt to"
        )
    model = (d.smoke_test.model if d.smoke_test else None) or d.model_id
    return InferenceStream(endpoint=d.endpoint, prompt=prompt, model=model)


async def resolve(ref: str, *, principal: Principal) -> str:
    """A deployment id from an id, an id prefix (as shown in the chat) or a name, among those the person
    may see."""
    ref = ref.strip().lower()
    async with unit_of_work(principal) as ctx:
        views = await deployments.list_all(ctx, include_deleted=True)
    found = [v for v in views if v.name == ref or v.id.replace("-", "").startswith(ref.replace("-", ""))]
    if not found:
        raise service.DeploymentNotFoundError(f"no deployment of yours matches {ref!r}")
    if len(found) > 1:
        raise Invalid(f"{ref!r} matches {len(found)} deployments; give more of the id")
    return found[0].id
