"""service.deploy() against the real kube-apiserver, with its state in the real Postgres.

No controllers run in this cluster: when the deployment reaches waiting_ready, the test plays KServe's
controller and sets the InferenceService's Ready condition through the /status subresource, as the
controller would. Everything else (dry-run, server-side apply, the watch, RBAC, delete) is the API server's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes_asyncio import client as k8s_client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.auth import Principal
from app.deploy import service
from app.deploy.events import Finished, SmokeTested, StateChanged, StepProgress
from app.deploy.plan import DeploymentPlan, SLOTargets
from app.deploy.targets.base import DeployTarget
from app.deploy.targets.kube_adapter import KubernetesDeployTarget
from db import models as m
from db.session import make_engine

ADMIN = Principal.system()


@pytest.fixture
async def engine(fresh_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(fresh_db_url)
    yield eng
    await eng.dispose()


def factory(cluster: Any, token: str) -> service.TargetFactory:
    async def make(kind: str, runtime: dict[str, Any]) -> DeployTarget:
        assert kind == "kubernetes"
        return KubernetesDeployTarget(cluster.target(token))

    return make


def make_plan(**overrides: Any) -> DeploymentPlan:
    dep_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "deployment_id": dep_id,
        "name": f"svc-{dep_id[:8]}",
        "namespace": "default",
        "model_id": "meta-llama/Llama-3.1-8B-Instruct",
        "gpu_id": "H100-SXM-80GB",
        "gpu_product_label": "NVIDIA-H100-80GB-HBM3",
        "replicas_min": 1,
        "replicas_max": 3,
        "slo": SLOTargets(ttft_p90_ms=500, tpot_p90_ms=50, e2e_p95_ms=20000),
    }
    fields.update(overrides)
    return DeploymentPlan(**fields)


async def create(engine: AsyncEngine, plan: DeploymentPlan) -> str:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        view = await service.create_deployment(plan, principal=ADMIN, session=s, target="kubernetes")
        await s.commit()
    return view.id


async def play_kserve_controller(cluster: Any, plan: DeploymentPlan) -> None:
    """What KServe's controller would do once the predictor is up: report Ready on /status."""
    api = cluster.api_client(cluster.admin_token)
    try:
        await k8s_client.CustomObjectsApi(api).patch_namespaced_custom_object_status(  # type: ignore[call-arg]
            "serving.kserve.io",
            "v1beta1",
            plan.namespace,
            "inferenceservices",
            plan.name,
            {
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
                    ]
                }
            },
            _content_type="application/merge-patch+json",
        )
    finally:
        await api.close()


async def run_deploy(
    engine: AsyncEngine, cluster: Any, dep_id: str, plan: DeploymentPlan, token: str
) -> list[Any]:
    events = []
    async for ev in service.deploy(
        dep_id, principal=ADMIN, engine=engine, target_factory=factory(cluster, token), ready_timeout_s=30
    ):
        events.append(ev)
        if isinstance(ev, StateChanged) and ev.to_state == "waiting_ready":
            await play_kserve_controller(cluster, plan)
    return events


async def live(cluster: Any, plan: DeploymentPlan) -> dict[str, Any] | None:
    target = cluster.target(cluster.admin_token)
    try:
        return await target.get(
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": {"name": plan.name, "namespace": plan.namespace},
            }
        )
    finally:
        await target.close()


async def test_deploy_to_the_api_server_reapply_rollback_and_delete(
    cluster: Any, engine: AsyncEngine
) -> None:
    plan = make_plan()
    dep_id = await create(engine, plan)
    events = await run_deploy(engine, cluster, dep_id, plan, cluster.admin_token)
    assert [e.to_state for e in events if isinstance(e, StateChanged)] == [
        "validating",
        "applying",
        "waiting_ready",
        "ready",
    ]
    steps = [e.message for e in events if isinstance(e, StepProgress)]
    assert any("server-side dry-run passed" in s for s in steps)
    assert any(s.startswith("InferenceService/default/") and s.endswith("created") for s in steps)
    smoke = next(e for e in events if isinstance(e, SmokeTested))
    assert smoke.skipped and "not reachable" in smoke.skipped  # the Service is inside the cluster network
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.ok
    assert finished.endpoint == f"http://{plan.name}-predictor.default.svc.cluster.local"
    first = await live(cluster, plan)
    assert first is not None

    # Re-running the deployment changes nothing on the server.
    again = await run_deploy(engine, cluster, dep_id, plan, cluster.admin_token)
    assert any(isinstance(e, StepProgress) and "nothing changed" in e.message for e in again)
    assert (await live(cluster, plan))["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]  # type: ignore[index]

    # Revision 2 (more sequences), then rollback re-applies revision 1.
    plan2 = plan.model_copy(update={"vllm": plan.vllm.model_copy(update={"max_num_seqs": 128})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        await service.update_plan(dep_id, plan2, principal=ADMIN, session=s)
        await s.commit()
    await run_deploy(engine, cluster, dep_id, plan2, cluster.admin_token)
    isvc = await live(cluster, plan)
    assert "--max-num-seqs=128" in isvc["spec"]["predictor"]["model"]["args"]  # type: ignore[index]
    back = [
        e
        async for e in service.rollback(
            dep_id, principal=ADMIN, engine=engine, target_factory=factory(cluster, cluster.admin_token)
        )
    ]
    assert isinstance(back[-1], Finished) and back[-1].state == "rolled_back", back[-1]
    isvc = await live(cluster, plan)
    assert "--max-num-seqs=128" not in isvc["spec"]["predictor"]["model"]["args"]  # type: ignore[index]

    gone = [
        e
        async for e in service.delete(
            dep_id, principal=ADMIN, engine=engine, target_factory=factory(cluster, cluster.admin_token)
        )
    ]
    assert isinstance(gone[-1], Finished) and gone[-1].state == "deleted"
    assert await live(cluster, plan) is None
    async with async_sessionmaker(engine)() as s:
        history = (
            (
                await s.execute(
                    select(m.DeploymentEvent.to_state)
                    .where(m.DeploymentEvent.deployment_id == uuid.UUID(dep_id))
                    .order_by(m.DeploymentEvent.id)
                )
            )
            .scalars()
            .all()
        )
    assert list(history) == ["planned"] + ["validating", "applying", "waiting_ready", "ready"] * 3 + [
        "rolling_back",
        "rolled_back",
        "deleted",
    ]


async def test_rbac_denial_fails_the_deployment_with_a_clear_message(
    cluster: Any, engine: AsyncEngine
) -> None:
    plan = make_plan()
    dep_id = await create(engine, plan)
    events = [
        e
        async for e in service.deploy(
            dep_id, principal=ADMIN, engine=engine, target_factory=factory(cluster, cluster.dev_token)
        )
    ]
    failed = next(e for e in events if isinstance(e, StateChanged) and e.to_state == "failed")
    assert failed.detail["error_type"] == "PermissionDeniedError"
    assert "forbidden" in failed.detail["error"].lower() or "denied" in failed.detail["error"].lower()
    assert isinstance(events[-1], Finished) and not events[-1].ok
    assert "preflight deployments rollback" in events[-1].message
    assert await live(cluster, plan) is None
