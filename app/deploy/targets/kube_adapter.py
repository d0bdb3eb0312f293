"""The `kubernetes` target as the deployment service sees it (app/deploy/targets/base.py), over
KubernetesTarget: server-side dry-run, server-side apply, watch until ready, delete.

The endpoint is the in-cluster Service URL. Preflight usually runs outside the cluster network, so the
smoke test is attempted but an unreachable endpoint is reported, not a failure of the deployment.
"""

from __future__ import annotations

from typing import Any

from app.deploy.plan import DeploymentPlan
from app.deploy.targets.base import ApplyOutcome, Note, ReadyOutcome, SaveRuntime
from app.deploy.targets.kubernetes import KubernetesTarget


def service_url(plan: DeploymentPlan) -> str:
    """KServe raw mode and the plain Deployment flavor both expose the pods on port 80 of a Service named
    after the workload; serverless goes through Knative's route (same host name, port 80)."""
    return f"http://{plan.workload_name}.{plan.namespace}.svc.cluster.local"


class KubernetesDeployTarget:
    kind = "kubernetes"

    def __init__(
        self, target: KubernetesTarget, *, kubeconfig: str | None = None, context: str | None = None
    ):
        self.target = target
        self.kubeconfig = kubeconfig
        self.context = context

    @classmethod
    async def connect(
        cls, kubeconfig: str | None = None, context: str | None = None
    ) -> KubernetesDeployTarget:
        return cls(
            await KubernetesTarget.connect(kubeconfig, context), kubeconfig=kubeconfig, context=context
        )

    async def preview(self, plan: DeploymentPlan, docs: list[dict[str, Any]]) -> list[str]:
        result = await self.target.dry_run(docs)
        return [f"{o.ref}: would be {o.action}" + (f" ({o.note})" if o.note else "") for o in result.objects]

    async def apply(
        self,
        plan: DeploymentPlan,
        docs: list[dict[str, Any]],
        runtime: dict[str, Any],
        save_runtime: SaveRuntime,
        note: Note,
    ) -> ApplyOutcome:
        # Dry-run first: the server's admission and schema checks reject a bad object before any is stored.
        await self.target.dry_run(docs)
        await note(f"server-side dry-run passed for {len(docs)} objects")
        result = await self.target.apply(docs)
        rt = {
            "kind": "kubernetes",
            "api_server": self.target.host,
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "objects": {o.ref: o.resource_version for o in result.objects},
        }
        await save_runtime(rt)
        for o in result.objects:
            await note(f"{o.ref} {o.action}")
        return ApplyOutcome(
            changed=result.changed, lines=[f"{o.ref} {o.action}" for o in result.objects], runtime=rt
        )

    async def wait_ready(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any], timeout_s: float
    ) -> ReadyOutcome:
        await self.target.wait_ready(docs, timeout_s=timeout_s)
        url = service_url(plan)
        return ReadyOutcome(endpoint=url, endpoints=[url], runtime=runtime, smoke_reachable=False)

    async def delete(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any]
    ) -> list[str]:
        result = await self.target.delete(docs)
        return [f"{o.ref} {o.action}" for o in result.objects]

    async def close(self) -> None:
        await self.target.close()
