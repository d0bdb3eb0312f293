"""The deployment state machine against the real Postgres, with real local simulator processes.

Each test gets its own seeded database (the service commits and takes advisory locks on its own
connections, so the rolled-back `session` fixture does not fit) and its own directory for the processes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from support.deploy import deployment_row, recommendation_for, stop_leftovers

from app.auth import Principal, create_user
from app.deploy import service
from app.deploy.events import Finished, StateChanged
from app.deploy.from_recommendation import PlanSourceError, plan_from_recommendation
from app.deploy.targets.base import DeployTarget
from app.deploy.targets.local import LocalRuntime, LocalTarget, is_alive
from db import models as m
from db.session import make_engine


@pytest.fixture
async def engine(fresh_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(fresh_db_url)
    yield eng
    await stop_leftovers(eng)
    await eng.dispose()


@pytest.fixture
async def people(engine: AsyncEngine) -> dict[str, Principal]:
    out: dict[str, Principal] = {}
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        for name, admin in (("ana", False), ("bob", False), ("root", True)):
            user, _ = await create_user(name, "password123", admin=admin, session=s)
            out[name] = Principal(user.id, name, admin)
        await s.commit()
    return out


def factory(base: Path, **env: str) -> service.TargetFactory:
    async def make(kind: str, runtime: dict[str, Any]) -> DeployTarget:
        assert kind == "local"
        return LocalTarget(base, extra_env=env)

    return make


async def planned(engine: AsyncEngine, who: Principal, rec_id: str, replicas: int = 1) -> str:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        src = await plan_from_recommendation(rec_id, 1, principal=who, session=s, replicas=replicas)
        view = await service.create_deployment(
            src.plan,
            principal=who,
            session=s,
            recommendation_id=src.recommendation_id,
            option_index=src.option_index,
            specification=src.specification,
            prediction=src.prediction,
        )
        await s.commit()
    return view.id


async def history(engine: AsyncEngine, dep_id: str) -> list[str]:
    async with async_sessionmaker(engine)() as s:
        return list(
            (
                await s.execute(
                    select(m.DeploymentEvent.to_state)
                    .where(m.DeploymentEvent.deployment_id == uuid.UUID(dep_id))
                    .order_by(m.DeploymentEvent.id)
                )
            ).scalars()
        )


async def test_deploy_is_recorded_idempotent_and_rolls_back_to_the_previous_revision(
    engine: AsyncEngine, people: dict[str, Principal], tmp_path: Path
) -> None:
    ana = people["ana"]
    rec_id = await recommendation_for(engine, ana)
    dep_id = await planned(engine, ana, rec_id)
    make = factory(tmp_path)

    events = [ev async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=make)]
    assert [e.to_state for e in events if isinstance(e, StateChanged)] == [
        "validating",
        "applying",
        "waiting_ready",
        "ready",
    ]
    assert isinstance(events[-1], Finished) and events[-1].ok
    dep = await deployment_row(engine, dep_id)
    assert dep.state == "ready" and dep.endpoint and dep.smoke_test and dep.smoke_test["ok"]
    assert len(dep.revisions) == 1 and dep.manifests == dep.revisions[0]["manifests"]
    pid = LocalRuntime.model_validate(dep.runtime).replicas()[0].pid

    # Re-running changes nothing: same process, same revision.
    again = [ev async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=make)]
    assert any("nothing changed" in getattr(e, "message", "") for e in again)
    dep = await deployment_row(engine, dep_id)
    assert len(dep.revisions) == 1
    assert LocalRuntime.model_validate(dep.runtime).replicas()[0].pid == pid

    # A new revision (another engine limit), then back.
    from app.deploy.plan import DeploymentPlan

    plan = DeploymentPlan.model_validate(dep.plan)
    new_plan = plan.model_copy(update={"vllm": plan.vllm.model_copy(update={"max_num_seqs": 64})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        await service.update_plan(dep_id, new_plan, principal=ana, session=s)
        await s.commit()
    [ev async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=make)]
    dep = await deployment_row(engine, dep_id)
    assert dep.state == "ready" and len(dep.revisions) == 2
    assert LocalRuntime.model_validate(dep.runtime).replicas()[0].pid != pid

    back = [ev async for ev in service.rollback(dep_id, principal=ana, engine=engine, target_factory=make)]
    assert isinstance(back[-1], Finished) and back[-1].state == "rolled_back", back[-1]
    dep = await deployment_row(engine, dep_id)
    assert dep.plan["vllm"]["max_num_seqs"] == plan.vllm.max_num_seqs and len(dep.revisions) == 1
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{dep.endpoint}/health")).status_code == 200

    gone = [ev async for ev in service.delete(dep_id, principal=ana, engine=engine, target_factory=make)]
    assert isinstance(gone[-1], Finished) and gone[-1].state == "deleted"
    assert not any(is_alive(p) for p in LocalRuntime.model_validate(dep.runtime).processes)
    assert await history(engine, dep_id) == [
        "planned",
        "validating",
        "applying",
        "waiting_ready",
        "ready",
        "validating",
        "applying",
        "waiting_ready",
        "ready",
        "validating",
        "applying",
        "waiting_ready",
        "ready",
        "rolling_back",
        "rolled_back",
        "deleted",
    ]
    async with async_sessionmaker(engine)() as s:
        audit = (
            await s.execute(
                select(m.AuditLog.action, m.AuditLog.actor)
                .where(m.AuditLog.object_id == dep_id)
                .order_by(m.AuditLog.id)
            )
        ).all()
    actions = [a for a, _ in audit]
    assert {a for _, a in audit} == {"ana"}
    for action in (
        "deployment.planned",
        "deployment.apply",
        "deployment.smoke_test",
        "deployment.update_plan",
    ):
        assert action in actions, actions
    assert actions.count("deployment.ready") == 3 and actions[-1] == "deployment.deleted"


async def test_people_see_and_act_on_their_own_deployments_only(
    engine: AsyncEngine, people: dict[str, Principal], tmp_path: Path
) -> None:
    ana, bob, root = people["ana"], people["bob"], people["root"]
    rec_id = await recommendation_for(engine, ana)
    with pytest.raises(PlanSourceError):
        await planned(engine, bob, rec_id)  # someone else's recommendation reads as missing
    dep_id = await planned(engine, ana, rec_id)
    async with async_sessionmaker(engine)() as s:
        assert [v.id for v in await service.list_deployments(principal=ana, session=s)] == [dep_id]
        assert await service.list_deployments(principal=bob, session=s) == []
        assert [v.id for v in await service.list_deployments(principal=root, session=s)] == [dep_id]
        with pytest.raises(service.DeploymentNotFoundError):
            await service.get_deployment(dep_id, principal=bob, session=s)
    for op in (service.deploy, service.rollback, service.delete):
        with pytest.raises(service.DeploymentNotFoundError):
            [ev async for ev in op(dep_id, principal=bob, engine=engine, target_factory=factory(tmp_path))]
    with pytest.raises(service.DeploymentNotFoundError):
        await service.cancel(dep_id, principal=bob, engine=engine)
    assert (await deployment_row(engine, dep_id)).state == "planned"


async def test_one_process_at_a_time_and_cancel_rolls_back(
    engine: AsyncEngine, people: dict[str, Principal], tmp_path: Path
) -> None:
    ana = people["ana"]
    dep_id = await planned(engine, ana, await recommendation_for(engine, ana), replicas=2)
    # The simulator's slow-start fault keeps /health at 503, so the run sits in waiting_ready.
    make = factory(tmp_path, PREFLIGHT_SIM_SLOW_START_S="60")
    seen: list[Any] = []
    reached = asyncio.Event()

    async def run() -> None:
        async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=make):
            seen.append(ev)
            if isinstance(ev, StateChanged) and ev.to_state == "waiting_ready":
                reached.set()

    task = asyncio.create_task(run())
    await asyncio.wait_for(reached.wait(), 30)
    # A second actor (another Preflight replica) cannot act on it meanwhile.
    with pytest.raises(service.DeploymentBusyError):
        [ev async for ev in service.delete(dep_id, principal=ana, engine=engine, target_factory=make)]
    runtime = LocalRuntime.model_validate((await deployment_row(engine, dep_id)).runtime)
    assert len(runtime.replicas()) == 2 and all(is_alive(p) for p in runtime.processes)

    assert await service.cancel(dep_id, principal=ana, engine=engine) == []  # the live run handles it
    await asyncio.wait_for(task, 30)
    assert isinstance(seen[-1], Finished) and seen[-1].state == "rolled_back"
    assert await history(engine, dep_id) == [
        "planned",
        "validating",
        "applying",
        "waiting_ready",
        "failed",
        "rolling_back",
        "rolled_back",
    ]
    dep = await deployment_row(engine, dep_id)
    assert not dep.cancel_requested and dep.endpoint is None and dep.runtime == {}
    assert not any(is_alive(p) for p in runtime.processes)
    # A cancelled deployment can be deployed again.
    fast = factory(tmp_path)
    done = [ev async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=fast)]
    assert isinstance(done[-1], Finished) and done[-1].state == "ready"
    [ev async for ev in service.delete(dep_id, principal=ana, engine=engine, target_factory=fast)]


async def test_reconcile_never_leaves_a_deployment_in_flight(
    engine: AsyncEngine, people: dict[str, Principal], tmp_path: Path
) -> None:
    ana = people["ana"]
    rec_id = await recommendation_for(engine, ana)
    resumed, failed = await planned(engine, ana, rec_id), await planned(engine, ana, rec_id)
    # As a process that died after recording the transition but before doing the work would leave them.
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for dep_id in (resumed, failed):
        async with sessions() as s:
            dep = await s.get(m.Deployment, uuid.UUID(dep_id))
            assert dep is not None
            for state in ("validating", "applying"):
                await service._transition(s, dep, state, ana)
            await s.commit()
    make = factory(tmp_path)
    # Without resuming: failed, cleanly (one of them only: the other is held by a live "replica").
    async with service.deployment_lock(engine, uuid.UUID(resumed)):
        results = await service.reconcile(engine=engine, target_factory=make, resume=False)
    by_id = {r.deployment_id: r for r in results}
    assert by_id[resumed].action == "skipped"
    assert by_id[failed].action == "failed" and by_id[failed].to_state == "failed"
    assert (await deployment_row(engine, failed)).state == "failed"
    # Resuming: re-applying is safe, so it completes.
    results = await service.reconcile(engine=engine, target_factory=make)
    assert [(r.deployment_id, r.action, r.to_state) for r in results] == [(resumed, "resumed", "ready")]
    dep = await deployment_row(engine, resumed)
    assert dep.state == "ready" and dep.smoke_test and dep.smoke_test["ok"]
    [ev async for ev in service.delete(resumed, principal=ana, engine=engine, target_factory=make)]
    assert await service.reconcile(engine=engine, target_factory=make) == []


async def test_a_bug_in_a_target_fails_the_deployment_and_is_left_to_the_adapter_to_log_once(
    engine: AsyncEngine, people: dict[str, Principal], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14 leftover 2: the service used to log a bug's traceback and re-raise it to an adapter that
    logged it again. Now the service leaves the deployment failed, raises, and logs nothing itself."""

    class Bug(RuntimeError):
        pass

    async def broken(kind: str, runtime: dict[str, Any]) -> DeployTarget:
        raise Bug("a bug in the target")

    ana = people["ana"]
    dep_id = await planned(engine, ana, await recommendation_for(engine, ana))
    caplog.set_level("DEBUG")
    with pytest.raises(Bug):
        [ev async for ev in service.deploy(dep_id, principal=ana, engine=engine, target_factory=broken)]
    assert (await deployment_row(engine, dep_id)).state == "failed"
    assert not [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], Bug)]
