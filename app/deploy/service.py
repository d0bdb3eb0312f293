"""The deployment service: a persisted state machine on `deployments` + `deployment_events`.

Lifecycle: planned -> validating -> applying -> waiting_ready -> ready | failed -> rolling_back ->
rolled_back | deleted. Every transition is a deployment_events row (timestamp, actor) and an audit_log row,
committed before the next step starts, so the history survives a crash. Runtime health (healthy, degraded,
unhealthy) is app/observe's, not a lifecycle state.

- `deploy()` is an async generator of typed progress events (app/deploy/events.py). It holds a session-level
  Postgres advisory lock on the deployment for the whole run, so several Preflight replicas never act on one
  deployment at once; a process that dies releases it with its connection.
- Apply is idempotent (server-side apply; local processes of the same plan are reused). Each applied
  revision ({revision, plan, manifests, applied_at, by}) is kept in `revisions`; the last one is current and
  `manifests` holds it as applied.
- `cancel()` sets cancel_requested; a running deploy checks it between steps and while waiting, then rolls
  back. `reconcile()` (on startup) resumes deployments left in validating/applying/waiting_ready by a dead
  process (re-applying is safe), or fails them cleanly; none stays in flight.
- Reads are owner-scoped: people see their own deployments, admins all; someone else's reads as missing.

Long-running operations take an AsyncEngine (they commit many short transactions and hold a lock on their
own connection); reads and plain updates take a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import Principal, audit
from app.deploy.events import (
    Finished,
    ManifestsRendered,
    ProgressEvent,
    SmokeTested,
    StateChanged,
    StepProgress,
)
from app.deploy.plan import DeploymentPlan
from app.deploy.render import RenderError, render_plan, to_yaml, write_manifests
from app.deploy.smoke import SmokeTestResult, smoke_test
from app.deploy.targets.base import DeployTarget, TargetError
from app.deploy.targets.kubernetes import KubernetesTargetError, ref_of
from app.deploy.validate import ManifestValidationError, ensure_valid
from app.errors import Conflict, Invalid, NotFound
from db import models as m

log = logging.getLogger(__name__)

STATES = (
    "planned",
    "validating",
    "applying",
    "waiting_ready",
    "ready",
    "failed",
    "rolling_back",
    "rolled_back",
    "deleted",
)
IN_FLIGHT = ("validating", "applying", "waiting_ready")
# Where each state may go. In-flight states may also move to failed / rolling_back / deleted when their
# run is gone (reconcile, cancel, delete of an orphan).
TRANSITIONS: dict[str | None, set[str]] = {
    None: {"planned"},
    "planned": {"validating", "failed", "deleted"},
    "validating": {"applying", "failed", "deleted"},
    "applying": {"waiting_ready", "failed", "deleted"},
    "waiting_ready": {"ready", "failed", "deleted"},
    "ready": {"validating", "rolling_back", "deleted"},
    "failed": {"validating", "rolling_back", "deleted"},
    "rolling_back": {"rolled_back", "failed", "deleted"},
    "rolled_back": {"validating", "rolling_back", "deleted"},
    "deleted": set(),
}
DEPLOYABLE = ("planned", "ready", "failed", "rolled_back", *IN_FLIGHT)
# First key of the two-int advisory lock: "PFDP" (app/observe's scraper uses "PFOB").
LOCK_CLASS = 0x5046_4450 - 2**31
CANCEL_POLL_S = 1.0

TargetFactory = Callable[[str, dict[str, Any]], Awaitable[DeployTarget]]
T = TypeVar("T")


# --- errors -------------------------------------------------------------------------------------------------
class DeploymentError(Invalid):
    """A deployment operation cannot proceed; the message says why and what to do."""


class DeploymentNotFoundError(NotFound, DeploymentError, LookupError):
    """No such deployment, or it belongs to someone else."""


class DeploymentBusyError(Conflict, DeploymentError):
    """Another Preflight process (or task) is acting on this deployment right now."""


class InvalidTransitionError(Conflict, DeploymentError):
    """The deployment's state does not allow the operation."""


class _Cancelled(Exception):
    """cancel_requested was seen while a deploy was running."""


# --- views --------------------------------------------------------------------------------------------------
class DeploymentEventView(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    actor: str | None
    detail: dict[str, Any]


class DeploymentView(BaseModel):
    id: str
    name: str
    owner_id: int | None
    state: str
    target: str
    namespace: str
    mode: str | None
    model_id: str | None
    endpoint: str | None
    health: str | None
    cancel_requested: bool
    recommendation_id: str | None
    option_index: int | None
    revision: int = Field(description="number of the current applied revision (0: never applied)")
    created_at: datetime
    updated_at: datetime
    smoke_test: SmokeTestResult | None = None


class DeploymentDetail(DeploymentView):
    plan: dict[str, Any]
    prediction: dict[str, Any]
    runtime: dict[str, Any]
    manifests_yaml: str
    revisions: list[dict[str, Any]] = Field(description="revision, applied_at, by, objects (no manifests)")
    events: list[DeploymentEventView]


class Preview(BaseModel):
    objects: list[str]
    yaml: str
    written: list[str] = Field(default_factory=list)
    dry_run: list[str] = Field(default_factory=list, description="the target's own preview (server dry-run)")


def _view(dep: m.Deployment) -> dict[str, Any]:
    plan = dep.plan or {}
    return {
        "id": str(dep.id),
        "name": dep.name,
        "owner_id": dep.owner_id,
        "state": dep.state,
        "target": dep.target,
        "namespace": dep.namespace,
        "mode": plan.get("mode"),
        "model_id": plan.get("model_id"),
        "endpoint": dep.endpoint,
        "health": dep.health,
        "cancel_requested": bool(dep.cancel_requested),
        "recommendation_id": str(dep.recommendation_id) if dep.recommendation_id else None,
        "option_index": dep.option_index,
        "revision": len(dep.revisions or []),
        "created_at": dep.created_at,
        "updated_at": dep.updated_at,
        "smoke_test": dep.smoke_test,
    }


def view(dep: m.Deployment) -> DeploymentView:
    return DeploymentView(**_view(dep))


# --- targets ------------------------------------------------------------------------------------------------
def local_base_dir() -> Path:
    from app.config import get_settings

    return get_settings().data_dir / "deployments"


async def default_target_factory(kind: str, runtime: dict[str, Any]) -> DeployTarget:
    """The target a stored deployment uses: local processes under <data_dir>/deployments, or the cluster of
    the kubeconfig/context recorded when it was created."""
    if kind == "local":
        from app.deploy.targets.local import LocalTarget

        return LocalTarget(local_base_dir())
    if kind == "kubernetes":
        from app.deploy.targets.kube_adapter import KubernetesDeployTarget

        return await KubernetesDeployTarget.connect(runtime.get("kubeconfig"), runtime.get("context"))
    raise DeploymentError(f"unknown target {kind!r}: use 'local' or 'kubernetes'")


# --- persistence helpers ------------------------------------------------------------------------------------
def _owned(stmt: Any, who: Principal) -> Any:
    return stmt if who.is_admin else stmt.where(m.Deployment.owner_id == who.id)


def _parse_id(deployment_id: str | uuid.UUID) -> uuid.UUID:
    if isinstance(deployment_id, uuid.UUID):
        return deployment_id
    try:
        return uuid.UUID(deployment_id)
    except ValueError as e:
        raise DeploymentNotFoundError(f"{deployment_id!r} is not a deployment id (a UUID)") from e


async def _load(
    session: AsyncSession, dep_id: uuid.UUID, who: Principal, *, for_update: bool = False
) -> m.Deployment:
    stmt = _owned(select(m.Deployment).where(m.Deployment.id == dep_id), who)
    if for_update:
        stmt = stmt.with_for_update()
    dep = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if dep is None:
        raise DeploymentNotFoundError(f"deployment {dep_id} not found")
    return dep


async def _transition(
    session: AsyncSession,
    dep: m.Deployment,
    to_state: str,
    who: Principal,
    detail: dict[str, Any] | None = None,
) -> StateChanged:
    """Move to `to_state`, recording the event and the audit entry in the same transaction."""
    if to_state not in TRANSITIONS.get(dep.state, set()):
        raise InvalidTransitionError(f"deployment {dep.id} is {dep.state}; it cannot go to {to_state}")
    detail = detail or {}
    from_state = dep.state
    dep.state = to_state
    dep.updated_at = datetime.now(UTC)
    session.add(
        m.DeploymentEvent(
            deployment_id=dep.id, from_state=from_state, to_state=to_state, actor=who.name, detail=detail
        )
    )
    await audit(
        who,
        f"deployment.{to_state}",
        "deployment",
        str(dep.id),
        {"from": from_state, **detail},
        session=session,
    )
    return StateChanged(
        deployment_id=str(dep.id), from_state=from_state, to_state=to_state, actor=who.name, detail=detail
    )


def _lock_key(dep_id: uuid.UUID) -> int:
    return int.from_bytes(hashlib.blake2b(dep_id.bytes, digest_size=4).digest(), "big", signed=True)


@contextlib.asynccontextmanager
async def deployment_lock(engine: AsyncEngine, dep_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold the deployment's advisory lock (session level, on a dedicated connection) or raise
    DeploymentBusyError at once. A process that dies loses its connection and with it the lock."""
    async with engine.connect() as conn:
        got = (
            await conn.execute(
                text("SELECT pg_try_advisory_lock(:c, :k)"), {"c": LOCK_CLASS, "k": _lock_key(dep_id)}
            )
        ).scalar_one()
        await conn.commit()
        if not got:
            raise DeploymentBusyError(
                f"deployment {dep_id} is being worked on by another Preflight process; try again when it "
                "has finished, or cancel it"
            )
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # the connection may be gone; closing it frees the lock
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:c, :k)"), {"c": LOCK_CLASS, "k": _lock_key(dep_id)}
                )
                await conn.commit()


def observe_hook(deployment_id: uuid.UUID, event: str) -> None:
    """Tell app/observe that a deployment became ready ("ready") or went away ("removed").

    The call site for metric scraping: when app/observe/hooks.py exposes `deployment_ready(id)` /
    `deployment_removed(id)` they are called; until then the scraper's own sweep (Scraper.watch_live over
    deployments in state "ready" with an endpoint) picks deployments up."""
    try:
        from app.observe import hooks
    except ImportError:
        log.debug("no app.observe.hooks: deployment %s %s not signalled", deployment_id, event)
        return
    fn = getattr(hooks, f"deployment_{event}", None)
    if fn is not None:
        fn(deployment_id)


# --- create, read, update -----------------------------------------------------------------------------------
async def create_deployment(
    plan: DeploymentPlan,
    *,
    principal: Principal,
    session: AsyncSession,
    target: str = "local",
    recommendation_id: uuid.UUID | None = None,
    option_index: int | None = None,
    specification: dict[str, Any] | None = None,
    prediction: dict[str, Any] | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> DeploymentView:
    """Record a planned deployment (state `planned`). The plan's deployment_id becomes the row id."""
    if target not in ("local", "kubernetes"):
        raise DeploymentError(f"unknown target {target!r}: use 'local' or 'kubernetes'")
    dep_id = _parse_id(plan.deployment_id)
    if await session.get(m.Deployment, dep_id) is not None:
        raise DeploymentError(f"deployment {dep_id} already exists: use update_plan() for a new revision")
    runtime: dict[str, Any] = {}
    if target == "kubernetes":
        runtime = {"kind": "kubernetes", "kubeconfig": kubeconfig, "context": context}
    dep = m.Deployment(
        id=dep_id,
        name=plan.name,
        owner_id=principal.id,
        recommendation_id=recommendation_id,
        option_index=option_index,
        specification=specification or {},
        prediction=prediction or {},
        plan=plan.model_dump(mode="json"),
        manifests=[],
        revisions=[],
        target=target,
        namespace=plan.namespace,
        state=None,  # set by the first transition
        runtime=runtime,
        cancel_requested=False,
    )
    session.add(dep)
    await _transition(session, dep, "planned", principal, {"target": target, "mode": plan.mode})
    await session.flush()
    return view(dep)


async def update_plan(
    deployment_id: str | uuid.UUID, plan: DeploymentPlan, *, principal: Principal, session: AsyncSession
) -> DeploymentView:
    """Replace the plan of a deployment that is not in flight; the next deploy() applies it as a new
    revision (or changes nothing when it renders the same manifests)."""
    dep = await _load(session, _parse_id(deployment_id), principal, for_update=True)
    if dep.state in IN_FLIGHT or dep.state in ("rolling_back", "deleted"):
        raise InvalidTransitionError(f"deployment {dep.id} is {dep.state}: its plan cannot change now")
    if plan.deployment_id != str(dep.id):
        raise DeploymentError("the plan's deployment_id does not match the deployment")
    dep.plan = plan.model_dump(mode="json")
    await audit(principal, "deployment.update_plan", "deployment", str(dep.id), {}, session=session)
    return view(dep)


async def list_deployments(
    *, principal: Principal, session: AsyncSession, include_deleted: bool = False
) -> list[DeploymentView]:
    stmt = _owned(select(m.Deployment), principal).order_by(m.Deployment.created_at.desc())
    if not include_deleted:
        stmt = stmt.where(m.Deployment.state != "deleted")
    return [view(d) for d in (await session.execute(stmt)).scalars()]


async def get_deployment(
    deployment_id: str | uuid.UUID, *, principal: Principal, session: AsyncSession
) -> DeploymentDetail:
    dep = await _load(session, _parse_id(deployment_id), principal)
    events = (
        await session.execute(
            select(m.DeploymentEvent)
            .where(m.DeploymentEvent.deployment_id == dep.id)
            .order_by(m.DeploymentEvent.id)
        )
    ).scalars()
    return DeploymentDetail(
        **_view(dep),
        plan=dep.plan or {},
        prediction=dep.prediction or {},
        runtime=dep.runtime or {},
        manifests_yaml=to_yaml(dep.manifests) if dep.manifests else "",
        revisions=[
            {
                "revision": r.get("revision"),
                "applied_at": r.get("applied_at"),
                "by": r.get("by"),
                "objects": [ref_of(d) for d in r.get("manifests") or []],
            }
            for r in dep.revisions or []
        ],
        events=[
            DeploymentEventView(
                at=e.at, from_state=e.from_state, to_state=e.to_state, actor=e.actor, detail=e.detail
            )
            for e in events
        ],
    )


# --- preview ------------------------------------------------------------------------------------------------
async def preview(
    plan: DeploymentPlan, *, target: DeployTarget | None = None, output_dir: Path | None = None
) -> Preview:
    """Render and validate; write the files for GitOps; against a cluster, the server-side dry-run result.
    Changes nothing anywhere."""
    docs = render_plan(plan)
    ensure_valid(docs, plan)
    written = [str(p) for p in write_manifests(docs, output_dir)] if output_dir else []
    dry = await target.preview(plan, docs) if target is not None else []
    return Preview(objects=[ref_of(d) for d in docs], yaml=to_yaml(docs), written=written, dry_run=dry)


# --- the run ------------------------------------------------------------------------------------------------
class _Run:
    """One deploy/rollback/delete run over a deployment whose lock is held."""

    def __init__(
        self, engine: AsyncEngine, dep_id: uuid.UUID, who: Principal, factory: TargetFactory
    ) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.dep_id = dep_id
        self.who = who
        self.factory = factory
        self.target: DeployTarget | None = None
        self.id = str(dep_id)

    async def load(self) -> m.Deployment:
        async with self.sessions() as s:
            return await _load(s, self.dep_id, Principal.system())

    async def move(self, to_state: str, detail: dict[str, Any] | None = None, **fields: Any) -> StateChanged:
        async with self.sessions() as s:
            dep = await _load(s, self.dep_id, Principal.system(), for_update=True)
            for key, value in fields.items():
                setattr(dep, key, value)
            ev = await _transition(s, dep, to_state, self.who, detail)
            await s.commit()
        log.info("deployment %s: %s -> %s", self.dep_id, ev.from_state, to_state)
        return ev

    async def update(self, **fields: Any) -> None:
        async with self.sessions() as s:
            dep = await _load(s, self.dep_id, Principal.system(), for_update=True)
            for key, value in fields.items():
                setattr(dep, key, value)
            dep.updated_at = datetime.now(UTC)
            await s.commit()

    async def note_audit(self, action: str, detail: dict[str, Any]) -> None:
        async with self.sessions() as s:
            await audit(self.who, action, "deployment", self.id, detail, session=s)
            await s.commit()

    async def cancel_requested(self) -> bool:
        async with self.sessions() as s:
            flag = (
                await s.execute(select(m.Deployment.cancel_requested).where(m.Deployment.id == self.dep_id))
            ).scalar_one_or_none()
        return bool(flag)

    async def get_target(self, dep: m.Deployment) -> DeployTarget:
        if self.target is None:
            self.target = await self.factory(dep.target, dep.runtime or {})
        return self.target

    async def close(self) -> None:
        if self.target is not None:
            await self.target.close()

    def step(self, step: str, message: str) -> StepProgress:
        return StepProgress(deployment_id=self.id, step=step, message=message)

    async def drive(
        self,
        step: str,
        make: Callable[[Callable[[str], Awaitable[None]]], Coroutine[Any, Any, T]],
        out: list[T],
    ) -> AsyncIterator[StepProgress]:
        """Run a target call as a task; yield its notes as they come; poll cancel_requested meanwhile.
        The result is appended to `out`; _Cancelled is raised when a cancel was asked for."""
        notes: asyncio.Queue[str] = asyncio.Queue()

        async def note(msg: str) -> None:
            notes.put_nowait(msg)

        task = asyncio.ensure_future(make(note))
        next_poll = asyncio.get_running_loop().time() + CANCEL_POLL_S
        try:
            while not task.done() or not notes.empty():
                while not notes.empty():
                    yield self.step(step, notes.get_nowait())
                if task.done():
                    break
                await asyncio.wait({task}, timeout=0.2)
                if asyncio.get_running_loop().time() >= next_poll:
                    next_poll += CANCEL_POLL_S
                    if await self.cancel_requested():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task
                        raise _Cancelled()
            out.append(task.result())
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


_EXPECTED = (
    TargetError,
    KubernetesTargetError,
    ManifestValidationError,
    RenderError,
    ValidationError,
    DeploymentError,
    OSError,
)


def _error_detail(e: BaseException) -> dict[str, Any]:
    return {"error": str(e)[:4000] or type(e).__name__, "error_type": type(e).__name__}


async def _pipeline(run: _Run, ready_timeout_s: float, run_smoke: bool) -> AsyncIterator[ProgressEvent]:
    """validating -> applying -> waiting_ready -> ready, resuming at the step an earlier run stopped in."""
    dep = await run.load()
    start = dep.state
    if start in IN_FLIGHT:
        yield run.step("resume", f"resuming a deployment left in {start} by a process that stopped")
        await run.note_audit("deployment.resume", {"state": start})
    plan = DeploymentPlan.model_validate(dep.plan)

    # validating
    if start not in IN_FLIGHT:
        yield await run.move("validating", {"revision_of_plan": len(dep.revisions or []) + 1})
    if await run.cancel_requested():
        raise _Cancelled()
    docs = render_plan(plan)
    report = ensure_valid(docs, plan)
    yield ManifestsRendered(
        deployment_id=run.id, count=report.checked, objects=[ref_of(d) for d in docs], yaml=to_yaml(docs)
    )
    if await run.cancel_requested():
        raise _Cancelled()

    # applying
    target = await run.get_target(dep)
    if dep.state != "applying" and dep.state != "waiting_ready":
        yield await run.move("applying", {"objects": len(docs)})

    async def save_runtime(runtime: dict[str, Any]) -> None:
        await run.update(runtime=runtime)

    outcome: list[Any] = []
    async for ev in run.drive(
        "apply", lambda note: target.apply(plan, docs, (dep.runtime or {}), save_runtime, note), outcome
    ):
        yield ev
    applied = outcome[0]
    dep = await run.load()
    revisions = list(dep.revisions or [])
    plan_json = plan.model_dump(mode="json")
    if not revisions or revisions[-1]["manifests"] != docs or revisions[-1]["plan"] != plan_json:
        revisions.append(
            {
                "revision": (revisions[-1]["revision"] + 1) if revisions else 1,
                "plan": plan_json,
                "manifests": docs,
                "applied_at": datetime.now(UTC).isoformat(),
                "by": run.who.name,
            }
        )
        yield run.step("apply", f"applied as revision {revisions[-1]['revision']}")
    else:
        yield run.step("apply", f"revision {revisions[-1]['revision']} re-applied: nothing changed")
    await run.update(manifests=docs, revisions=revisions, runtime=applied.runtime)
    await run.note_audit(
        "deployment.apply", {"revision": revisions[-1]["revision"], "changed": applied.changed}
    )

    # waiting_ready
    if dep.state != "waiting_ready":
        yield await run.move("waiting_ready", {"timeout_s": ready_timeout_s})
    ready_out: list[Any] = []
    async for ev in run.drive(
        "wait_ready", lambda note: target.wait_ready(plan, docs, applied.runtime, ready_timeout_s), ready_out
    ):
        yield ev
    ready = ready_out[0]
    runtime = {**ready.runtime, "endpoints": ready.endpoints}
    yield await run.move("ready", {"endpoint": ready.endpoint}, endpoint=ready.endpoint, runtime=runtime)
    observe_hook(run.dep_id, "ready")

    # smoke test
    if run_smoke and ready.endpoint:
        timeout = 60.0 if ready.smoke_reachable else 5.0
        result = await smoke_test(ready.endpoint, model=plan.model_name, timeout_s=timeout)
        skipped = None
        if not result.ok and not ready.smoke_reachable:
            skipped = f"{ready.endpoint} is not reachable from where Preflight runs ({result.error})"
        await run.update(smoke_test=result.model_dump(mode="json"))
        await run.note_audit(
            "deployment.smoke_test",
            {
                "ok": result.ok,
                "ttft_ms": result.ttft_ms,
                "itl_ms": result.itl_ms_mean,
                "skipped": bool(skipped),
            },
        )
        yield SmokeTested(deployment_id=run.id, result=result, skipped=skipped)
    yield Finished(
        deployment_id=run.id, state="ready", ok=True, endpoint=ready.endpoint, message="deployment is ready"
    )


async def _rollback_steps(run: _Run, reason: dict[str, Any]) -> AsyncIterator[ProgressEvent]:
    """rolling_back -> rolled_back: re-apply the previous revision, or remove what the current one created."""
    dep = await run.load()
    yield await run.move("rolling_back", reason)
    revisions = list(dep.revisions or [])
    target = await run.get_target(dep)
    current_plan = DeploymentPlan.model_validate(dep.plan)
    try:
        previous = revisions[-2] if len(revisions) >= 2 else None
        if previous is None:
            for text_line in await target.delete(current_plan, dep.manifests or [], dep.runtime or {}):
                yield run.step("rollback", text_line)
            # Keep only how to reach the cluster; nothing of the removed processes or objects.
            runtime = (
                {k: v for k, v in (dep.runtime or {}).items() if k in ("kind", "kubeconfig", "context")}
                if dep.target == "kubernetes"
                else {}
            )
            await run.update(runtime=runtime, endpoint=None)
            yield await run.move("rolled_back", {"to_revision": 0})
            observe_hook(run.dep_id, "removed")
            yield Finished(
                deployment_id=run.id, state="rolled_back", ok=True, message="removed: no earlier revision"
            )
            return
        prev_plan = DeploymentPlan.model_validate(previous["plan"])
        if dep.target == "kubernetes":
            # Server-side apply of the previous manifests, then delete objects only the current one has.
            from app.deploy.targets.kube_adapter import KubernetesDeployTarget

            assert isinstance(target, KubernetesDeployTarget)
            result = await target.target.rollback(dep.manifests or [], previous["manifests"])
            for o in result.objects:
                yield run.step("rollback", f"{o.ref} {o.action}")
            runtime = dep.runtime or {}
        else:

            async def save_runtime(rt: dict[str, Any]) -> None:
                await run.update(runtime=rt)

            async def note(msg: str) -> None:
                return None

            outcome = await target.apply(
                prev_plan, previous["manifests"], dep.runtime or {}, save_runtime, note
            )
            for text_line in outcome.lines:
                yield run.step("rollback", text_line)
            runtime = outcome.runtime
        ready = await target.wait_ready(prev_plan, previous["manifests"], runtime, 300.0)
        await run.update(
            plan=previous["plan"],
            manifests=previous["manifests"],
            revisions=revisions[:-1],
            runtime={**ready.runtime, "endpoints": ready.endpoints},
            endpoint=ready.endpoint,
        )
        yield await run.move("rolled_back", {"to_revision": previous["revision"]})
        yield Finished(
            deployment_id=run.id,
            state="rolled_back",
            ok=True,
            endpoint=ready.endpoint,
            message=f"back on revision {previous['revision']}",
        )
    except _EXPECTED as e:
        yield await run.move("failed", {**_error_detail(e), "during": "rollback"})
        yield Finished(deployment_id=run.id, state="failed", ok=False, message=f"rollback failed: {e}")


async def _cancel_steps(run: _Run) -> AsyncIterator[ProgressEvent]:
    dep = await run.load()
    if dep.state in IN_FLIGHT:
        yield await run.move("failed", {"reason": "cancelled"}, cancel_requested=False)
    else:
        await run.update(cancel_requested=False)
    async for ev in _rollback_steps(run, {"reason": "cancelled"}):
        yield ev


async def _fail(run: _Run, e: BaseException) -> AsyncIterator[ProgressEvent]:
    """failed, with the error; a local deployment's processes are stopped (they serve nothing useful)."""
    dep = await run.load()
    yield await run.move("failed", _error_detail(e))
    if dep.target == "local" and dep.runtime:
        try:
            target = await run.get_target(dep)
            for text_line in await target.delete(DeploymentPlan.model_validate(dep.plan), [], dep.runtime):
                yield run.step("cleanup", text_line)
            await run.update(runtime={}, endpoint=None)
        except (TargetError, OSError, ValidationError) as cleanup_error:
            yield run.step("cleanup", f"could not stop the local processes: {cleanup_error}")
    hint = (
        ""
        if dep.target == "local"
        else f"; remove what was applied with `preflight deployments rollback {dep.id}`"
    )
    yield Finished(deployment_id=run.id, state="failed", ok=False, message=f"{e}{hint}")


async def _deploy_locked(run: _Run, ready_timeout_s: float, run_smoke: bool) -> AsyncIterator[ProgressEvent]:
    try:
        try:
            async for ev in _pipeline(run, ready_timeout_s, run_smoke):
                yield ev
        except _Cancelled:
            yield run.step("cancel", "cancel requested: stopping and rolling back")
            async for ev in _cancel_steps(run):
                yield ev
        except _EXPECTED as e:
            log.warning("deployment %s failed: %s", run.dep_id, e)
            async for ev in _fail(run, e):
                yield ev
        except Exception as e:
            # A bug, not a user error: still leave the deployment in a final state, then surface it. Not
            # logged here: the adapter that receives it logs it, once, with its traceback.
            async for ev in _fail(run, e):
                yield ev
            raise
    finally:
        await run.close()


async def deploy(
    deployment_id: str | uuid.UUID,
    *,
    principal: Principal,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
    ready_timeout_s: float = 600.0,
    run_smoke: bool = True,
) -> AsyncIterator[ProgressEvent]:
    """Validate, apply, wait until ready and smoke-test, yielding progress events; the last is Finished.

    Re-running it on a ready deployment changes nothing on the target (same revision). On a deployment
    left in flight by a process that died, it resumes where that one stopped."""
    dep_id = _parse_id(deployment_id)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        dep = await _load(s, dep_id, principal)  # owner check before anything else
    async with deployment_lock(engine, dep_id):
        async with sessions() as s:
            dep = await _load(s, dep_id, principal)
        if dep.state not in DEPLOYABLE:
            raise InvalidTransitionError(
                f"deployment {dep_id} is {dep.state}: "
                + ("it is gone" if dep.state == "deleted" else "wait for the rollback to finish")
            )
        run = _Run(engine, dep_id, principal, target_factory)
        async for ev in _deploy_locked(run, ready_timeout_s, run_smoke):
            yield ev


@contextlib.asynccontextmanager
async def _locked_run(
    deployment_id: str | uuid.UUID, principal: Principal, engine: AsyncEngine, factory: TargetFactory
) -> AsyncIterator[_Run]:
    """A run over the deployment with its lock held, closed on exit. The owner check comes first, so a
    stranger is refused at once instead of waiting for the lock."""
    dep_id = _parse_id(deployment_id)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        await _load(s, dep_id, principal)
    async with deployment_lock(engine, dep_id):
        run = _Run(engine, dep_id, principal, factory)
        try:
            yield run
        finally:
            await run.close()


async def rollback(
    deployment_id: str | uuid.UUID,
    *,
    principal: Principal,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
) -> AsyncIterator[ProgressEvent]:
    """Re-apply the previous revision, or remove the deployment's objects when there is none."""
    async with _locked_run(deployment_id, principal, engine, target_factory) as run:
        dep = await run.load()
        if dep.state in IN_FLIGHT:
            # We hold the lock, so no run is alive: an orphan. Fail it first, then roll back.
            yield await run.move("failed", {"reason": "orphaned in-flight deployment rolled back"})
        elif "rolling_back" not in TRANSITIONS.get(dep.state, set()):
            raise InvalidTransitionError(f"deployment {run.id} is {dep.state}: nothing to roll back")
        async for ev in _rollback_steps(run, {"reason": "requested"}):
            yield ev


async def delete(
    deployment_id: str | uuid.UUID,
    *,
    principal: Principal,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
) -> AsyncIterator[ProgressEvent]:
    """Remove everything the deployment runs (processes or objects) and mark it deleted; its history stays."""
    async with _locked_run(deployment_id, principal, engine, target_factory) as run:
        dep = await run.load()
        if dep.state == "deleted":
            raise InvalidTransitionError(f"deployment {run.id} is already deleted")
        if dep.manifests or (dep.runtime or {}).get("processes"):
            target = await run.get_target(dep)
            try:
                lines = await target.delete(
                    DeploymentPlan.model_validate(dep.plan), dep.manifests or [], dep.runtime or {}
                )
            except _EXPECTED as e:
                yield await run.move("failed", {**_error_detail(e), "during": "delete"})
                yield Finished(deployment_id=run.id, state="failed", ok=False, message=f"delete failed: {e}")
                return
            for text_line in lines:
                yield run.step("delete", text_line)
        yield await run.move("deleted", {}, endpoint=None, cancel_requested=False)
        observe_hook(run.dep_id, "removed")
        yield Finished(deployment_id=run.id, state="deleted", ok=True, message="deleted")


async def live_local_deployments(
    *, session: AsyncSession, principal: Principal | None = None
) -> list[DeploymentView]:
    """Local deployments (of ``principal``; default: everyone's) with at least one process still alive.

    Their processes are detached and outlive the Preflight process that started them, so this is what a
    stopping `preflight up` reports and what `preflight deployments stop-all` stops."""
    from app.deploy.targets.local import LocalRuntime, is_alive

    stmt = select(m.Deployment).where(m.Deployment.target == "local", m.Deployment.state != "deleted")
    stmt = _owned(stmt, principal or Principal.system()).order_by(m.Deployment.created_at)
    live = []
    for dep in (await session.execute(stmt)).scalars():
        runtime = dep.runtime or {}
        if runtime.get("kind") != "local" or not runtime.get("processes"):
            continue
        if any(is_alive(p) for p in LocalRuntime.model_validate(runtime).processes):
            live.append(view(dep))
    return live


async def stop_all_local(
    *,
    principal: Principal,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
) -> AsyncIterator[ProgressEvent]:
    """Delete (stop the processes of) every live local deployment the principal may act on, one by one.
    A deployment busy in another process is reported and skipped; the others are still stopped."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        live = await live_local_deployments(session=s, principal=principal)
    for dep in live:
        try:
            async for ev in delete(dep.id, principal=principal, engine=engine, target_factory=target_factory):
                yield ev
        except DeploymentBusyError as e:
            yield Finished(deployment_id=dep.id, state=dep.state, ok=False, message=f"skipped: {e}")


async def cancel(
    deployment_id: str | uuid.UUID,
    *,
    principal: Principal,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
) -> list[ProgressEvent]:
    """Ask an in-flight deployment to stop. When its run is alive it sees the flag within a second and
    rolls back; when no run is alive (its process died), the rollback happens here."""
    dep_id = _parse_id(deployment_id)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        dep = await _load(s, dep_id, principal, for_update=True)
        if dep.state not in IN_FLIGHT:
            raise InvalidTransitionError(f"deployment {dep_id} is {dep.state}: nothing in flight to cancel")
        dep.cancel_requested = True
        await audit(
            principal,
            "deployment.cancel_requested",
            "deployment",
            str(dep_id),
            {"state": dep.state},
            session=s,
        )
        await s.commit()
    events: list[ProgressEvent] = []
    try:
        async with deployment_lock(engine, dep_id):
            run = _Run(engine, dep_id, principal, target_factory)
            try:
                if (await run.load()).state in IN_FLIGHT:
                    events = [ev async for ev in _cancel_steps(run)]
            finally:
                await run.close()
    except DeploymentBusyError:
        pass  # the live run will see the flag
    return events


class ReconcileResult(BaseModel):
    deployment_id: str
    from_state: str
    to_state: str | None
    action: str = Field(description="resumed | failed | cancelled | skipped (another process holds it)")
    message: str = ""


async def reconcile(
    *,
    engine: AsyncEngine,
    target_factory: TargetFactory = default_target_factory,
    resume: bool = True,
    ready_timeout_s: float = 600.0,
) -> list[ReconcileResult]:
    """On startup: every deployment left in validating/applying/waiting_ready/rolling_back whose lock is
    free (its process is gone) is resumed (or, with resume=False, failed cleanly); cancel requests are
    honoured. Deployments another live process holds are skipped."""
    who = Principal.system()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        rows = (
            await s.execute(
                select(m.Deployment.id, m.Deployment.state).where(
                    m.Deployment.state.in_([*IN_FLIGHT, "rolling_back"])
                )
            )
        ).all()
    results: list[ReconcileResult] = []
    for dep_id, state in rows:
        try:
            async with deployment_lock(engine, dep_id):
                run = _Run(engine, dep_id, who, target_factory)
                try:
                    dep = await run.load()
                    if dep.state not in (*IN_FLIGHT, "rolling_back"):
                        continue  # finished meanwhile
                    events: list[ProgressEvent] = []
                    if dep.state == "rolling_back":
                        # Redo the rollback from the start: it is idempotent too.
                        async with run.sessions() as s:
                            d = await _load(s, dep_id, who, for_update=True)
                            await _transition(s, d, "failed", who, {"reason": "rollback interrupted"})
                            await s.commit()
                        events = [
                            ev async for ev in _rollback_steps(run, {"reason": "resumed after restart"})
                        ]
                        action = "resumed"
                    elif dep.cancel_requested:
                        events = [ev async for ev in _cancel_steps(run)]
                        action = "cancelled"
                    elif resume:
                        events = [ev async for ev in _deploy_locked(run, ready_timeout_s, True)]
                        action = "resumed"
                    else:
                        events = [
                            ev
                            async for ev in _fail(
                                run,
                                DeploymentError(f"Preflight restarted while the deployment was {dep.state}"),
                            )
                        ]
                        action = "failed"
                finally:
                    await run.close()
            final = next((e for e in reversed(events) if isinstance(e, Finished)), None)
            results.append(
                ReconcileResult(
                    deployment_id=str(dep_id),
                    from_state=state,
                    to_state=final.state if final else None,
                    action=action,
                    message=final.message if final else "",
                )
            )
            log.info(
                "reconciled deployment %s: %s -> %s (%s)",
                dep_id,
                state,
                final.state if final else "?",
                action,
            )
        except DeploymentBusyError:
            results.append(
                ReconcileResult(deployment_id=str(dep_id), from_state=state, to_state=None, action="skipped")
            )
    return results


async def reconcile_on_startup() -> list[ReconcileResult]:
    """What the server runs once at start-up (as a background task): resume or fail what a stopped
    Preflight process left in flight. Errors are logged, never raised into the server."""
    from db.session import DatabaseUnavailableError, get_engine

    try:
        results = await reconcile(engine=await get_engine())
    except (DatabaseUnavailableError, DeploymentError, OSError) as e:
        log.error("reconciling in-flight deployments failed: %s", e)
        return []
    except Exception:  # a bug: this background task is its own last handler, so it logs it (once)
        log.exception("reconciling in-flight deployments failed unexpectedly")
        return []
    for r in results:
        log.info("reconcile: %s %s -> %s (%s)", r.deployment_id, r.from_state, r.to_state, r.action)
    return results
