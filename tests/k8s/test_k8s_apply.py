"""The kubernetes target against a real kube-apiserver + etcd (no controllers run: see conftest.py)."""

from __future__ import annotations

import asyncio
import copy
import itertools
from typing import Any

import pytest
from kubernetes_asyncio import client as k8s_client

from app.deploy.cluster_inventory import read_gpu_inventory
from app.deploy.plan import DeploymentPlan, SLOTargets
from app.deploy.render import render_plan
from app.deploy.targets.kubernetes import (
    ClusterUnreachableError,
    CRDMissingError,
    KubernetesTarget,
    ManifestRejectedError,
    PermissionDeniedError,
    ReadyTimeoutError,
)
from app.deploy.validate import ensure_valid

pytestmark = pytest.mark.k8s

_ns_counter = itertools.count(1)


def make_plan(**overrides: Any) -> DeploymentPlan:
    fields: dict[str, Any] = dict(
        deployment_id="dep-k8s",
        name="chat",
        namespace=f"team-{next(_ns_counter)}",
        team="search",
        model_id="meta-llama/Llama-3.1-8B-Instruct",
        gpu_id="h100-sxm-80gb",
        gpu_product_label="NVIDIA-H100-80GB-HBM3",
        tensor_parallel_size=2,
        replicas_min=1,
        replicas_max=3,
        slo=SLOTargets(ttft_p90_ms=500, tpot_p90_ms=50, e2e_p95_ms=20_000),
        hf_token_secret={"name": "hf-token"},
        create_namespace=True,
        pod_disruption_budget=True,
        network_policy=True,
        inference_pool=True,
        exposure={"kind": "httproute", "host": "llm.example.com"},
    )
    fields.update(overrides)
    return DeploymentPlan(**fields)


def manifests(plan: DeploymentPlan) -> list[dict[str, Any]]:
    docs = render_plan(plan)
    ensure_valid(docs, plan)
    return docs


async def test_dry_run_stores_nothing_then_apply_creates(admin: KubernetesTarget) -> None:
    docs = manifests(make_plan())
    preview = await admin.dry_run(docs)
    assert preview.dry_run and {o.action for o in preview.objects} == {"created"}
    for doc in docs:
        assert await admin.get(doc) is None, f"dry run stored {doc['kind']}"

    applied = await admin.apply(docs)
    assert [o.action for o in applied.objects] == ["created"] * len(docs)
    isvc = await admin.get(next(d for d in docs if d["kind"] == "InferenceService"))
    assert isvc is not None
    managers = {m["manager"] for m in isvc["metadata"]["managedFields"]}
    assert managers == {"preflight"}
    # Now that the namespace exists, the server can dry-run everything: nothing would change.
    again = await admin.dry_run(docs)
    assert {o.action for o in again.objects} == {"unchanged"}


async def test_reapply_changes_nothing(admin: KubernetesTarget) -> None:
    docs = manifests(make_plan())
    first = await admin.apply(docs)
    before = {
        o.ref: (o.resource_version, o.object["metadata"]["managedFields"]) for o in first.objects if o.object
    }
    second = await admin.apply(copy.deepcopy(docs))
    assert not second.changed
    assert {o.action for o in second.objects} == {"unchanged"}
    after = {
        o.ref: (o.resource_version, o.object["metadata"]["managedFields"]) for o in second.objects if o.object
    }
    assert after == before


async def test_changed_plan_is_reported_as_configured(admin: KubernetesTarget) -> None:
    plan = make_plan()
    await admin.apply(manifests(plan))
    bigger = plan.model_copy(update={"replicas_max": 5})
    preview = await admin.dry_run(manifests(bigger))
    changed = {o.ref.split("/")[0] for o in preview.objects if o.action == "configured"}
    assert {"InferenceService", "HorizontalPodAutoscaler"} <= changed


async def test_server_rejects_bad_inference_service_by_schema(admin: KubernetesTarget) -> None:
    plan = make_plan()
    docs = manifests(plan)
    await admin.apply([d for d in docs if d["kind"] == "Namespace"])
    original = next(d for d in docs if d["kind"] == "InferenceService")
    bad_enum = copy.deepcopy(original)
    bad_enum["spec"]["predictor"]["scaleMetric"] = "gpu-utilisation"
    with pytest.raises(ManifestRejectedError) as exc:
        await admin.apply([bad_enum])
    assert exc.value.status == 422
    assert "spec.predictor.scaleMetric" in str(exc.value) and "supported values" in str(exc.value)

    bad_type = copy.deepcopy(original)
    bad_type["spec"]["predictor"]["minReplicas"] = "two"
    with pytest.raises(ManifestRejectedError) as exc:
        await admin.apply([bad_type])
    # Server-side apply reports a wrongly typed value as a 500 "failed to create typed patch object".
    assert "minReplicas" in str(exc.value) and "expected numeric" in str(exc.value)
    assert await admin.get(original) is None

    unknown = copy.deepcopy(next(d for d in docs if d["kind"] == "InferenceService"))
    unknown["spec"]["predictor"]["modle"] = {"name": "typo"}
    with pytest.raises(ManifestRejectedError) as exc:
        await admin.dry_run([unknown])
    assert "modle" in str(exc.value)


async def test_missing_crd_names_the_product_to_install(admin: KubernetesTarget) -> None:
    docs = manifests(make_plan())
    llmisvc = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "LLMInferenceService",
        "metadata": {"name": "x", "namespace": "default"},
        "spec": {},
    }
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
    }
    with pytest.raises(CRDMissingError) as exc:
        await admin.apply([*docs, llmisvc, widget])
    assert "LLMInferenceService (serving.kserve.io/v1alpha1): install KServe" in str(exc.value)
    assert "Widget" in str(exc.value)
    # Nothing was applied: the kinds are checked before anything is written.
    assert await admin.get(docs[0]) is None


async def test_rbac_denial_for_restricted_user_is_clear(
    cluster: Any, admin: KubernetesTarget, dev: KubernetesTarget
) -> None:
    plan = make_plan(create_namespace=False, namespace="default")
    docs = manifests(plan)
    # The restricted user may only read ConfigMaps in "default".
    rbac = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "dev-read", "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "dev-read", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "dev-read"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": cluster.dev_user}],
        },
    ]
    await admin.apply(rbac)
    isvc = next(d for d in docs if d["kind"] == "InferenceService")
    with pytest.raises(PermissionDeniedError) as exc:
        await dev.apply([isvc])
    message = str(exc.value)
    assert "permission denied: cannot get InferenceService/default/chat" in message
    assert f'User "{cluster.dev_user}" cannot get resource "inferenceservices"' in message
    assert "Ask a cluster admin" in message


async def test_unreachable_api_server(cluster: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = k8s_client.Configuration()
    cfg.host = f"https://127.0.0.1:{port}"
    cfg.verify_ssl = False
    target = KubernetesTarget(k8s_client.ApiClient(cfg))
    try:
        with pytest.raises(ClusterUnreachableError) as exc:
            await target.dry_run(manifests(make_plan()))
        assert f"127.0.0.1:{port}" in str(exc.value)
    finally:
        await target.close()


async def _patch_isvc_ready(cluster: Any, namespace: str, name: str) -> None:
    """Do what KServe's controller would: set the InferenceService's Ready condition via /status."""
    api = cluster.api_client(cluster.admin_token)
    try:
        await k8s_client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            "serving.kserve.io",
            "v1beta1",
            namespace,
            "inferenceservices",
            name,
            {
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
                    ],
                    "url": f"http://{name}-predictor.{namespace}.svc.cluster.local",
                }
            },
            _content_type="application/merge-patch+json",
        )
    finally:
        await api.close()


async def test_wait_ready_follows_status_set_as_a_controller_would(
    cluster: Any, admin: KubernetesTarget
) -> None:
    plan = make_plan()
    docs = manifests(plan)
    await admin.apply(docs)
    # No KServe controller runs in this test cluster, so nothing becomes ready by itself...
    with pytest.raises(ReadyTimeoutError) as exc:
        await admin.wait_ready(docs, timeout_s=1.5)
    assert "InferenceService" in str(exc.value) and "Ready condition" in str(exc.value)
    # ...and the test plays the controller: the watcher must notice the status change.
    waiter = asyncio.create_task(admin.wait_ready(docs, timeout_s=30))
    await asyncio.sleep(0.5)
    await _patch_isvc_ready(cluster, plan.namespace, plan.name)
    state = await waiter
    assert state == {f"InferenceService/{plan.namespace}/chat": "ready"}


async def test_plain_deployment_ready_from_status(cluster: Any, admin: KubernetesTarget) -> None:
    plan = make_plan(
        flavor="deployment", inference_pool=False, replicas_min=2, replicas_max=2, autoscaler="none"
    )
    docs = manifests(plan)
    await admin.apply(docs)
    waiter = asyncio.create_task(admin.wait_ready(docs, timeout_s=30))
    await asyncio.sleep(0.5)
    api = cluster.api_client(cluster.admin_token)
    try:
        # As the Deployment controller would once both pods are available.
        await k8s_client.AppsV1Api(api).patch_namespaced_deployment_status(
            plan.name,
            plan.namespace,
            {
                "status": {
                    "observedGeneration": 1,
                    "replicas": 2,
                    "updatedReplicas": 2,
                    "readyReplicas": 2,
                    "availableReplicas": 2,
                }
            },
        )
    finally:
        await api.close()
    assert await waiter == {f"Deployment/{plan.namespace}/chat": "ready"}


async def test_delete_removes_everything_but_the_shared_namespace(admin: KubernetesTarget) -> None:
    docs = manifests(make_plan())
    await admin.apply(docs)
    deleted = await admin.delete(docs)
    assert {o.action for o in deleted.objects} == {"deleted"}
    for doc in docs:
        live = await admin.get(doc)
        if doc["kind"] == "Namespace":
            assert live is not None
        else:
            assert live is None, f"{doc['kind']} still exists"
    again = await admin.delete(docs)
    assert {o.action for o in again.objects} == {"absent"}


async def test_rollback_restores_previous_revision(admin: KubernetesTarget) -> None:
    rev1 = make_plan()
    rev2 = rev1.model_copy(update={"autoscaler": "keda", "replicas_max": 6})
    docs1, docs2 = manifests(rev1), manifests(rev2)
    await admin.apply(docs1)
    await admin.apply(docs2)
    hpa = next(d for d in docs1 if d["kind"] == "HorizontalPodAutoscaler")
    keda = next(d for d in docs2 if d["kind"] == "ScaledObject")
    assert await admin.get(keda) is not None

    result = await admin.rollback(current=docs2, previous=docs1)
    assert any(o.ref.startswith("ScaledObject/") and o.action == "deleted" for o in result.objects)
    assert await admin.get(keda) is None
    assert await admin.get(hpa) is not None
    isvc = await admin.get(next(d for d in docs1 if d["kind"] == "InferenceService"))
    assert isvc is not None and isvc["spec"]["predictor"]["maxReplicas"] == 3

    # With no previous revision, rollback deletes.
    await admin.rollback(current=docs1, previous=None)
    assert await admin.get(hpa) is None


async def test_gpu_inventory_from_real_node_objects(cluster: Any) -> None:
    api = cluster.api_client(cluster.admin_token)
    core = k8s_client.CoreV1Api(api)
    try:
        for name, product, count, ready, cordoned in (
            ("gpu-h100-a", "NVIDIA-H100-80GB-HBM3", 8, True, False),
            ("gpu-h100-b", "NVIDIA-H100-80GB-HBM3", 8, True, True),
            ("gpu-l4-a", "NVIDIA-L4", 4, False, False),
            ("cpu-a", None, 0, True, False),
        ):
            labels = {"kubernetes.io/hostname": name}
            if product:
                labels.update(
                    {
                        "nvidia.com/gpu.product": product,
                        "nvidia.com/gpu.count": str(count),
                        "nvidia.com/gpu.memory": "81559" if "H100" in product else "23034",
                    }
                )
            await core.create_node(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": name, "labels": labels},
                    "spec": {"unschedulable": cordoned},
                }
            )
            # Capacity and conditions are what the kubelet and device plugin report, via /status.
            res = {"cpu": "32", "memory": "256Gi", "pods": "110"}
            if count:
                res["nvidia.com/gpu"] = str(count)
            await core.patch_node_status(
                name,
                {
                    "status": {
                        "capacity": res,
                        "allocatable": {**res, **({"nvidia.com/gpu": str(count - 1)} if count else {})},
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "True" if ready else "False",
                                "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                                "lastTransitionTime": "2026-01-01T00:00:00Z",
                                "reason": "Test",
                                "message": "",
                            }
                        ],
                    }
                },
            )
        # A running pod bound to gpu-h100-a holding 3 GPUs (no scheduler runs: nodeName is set directly).
        await core.create_namespaced_service_account("default", {"metadata": {"name": "default"}}) if not any(
            sa.metadata.name == "default"
            for sa in (await core.list_namespaced_service_account("default")).items
        ) else None
        await core.create_namespaced_pod(
            "default",
            {
                "metadata": {"name": "busy-gpus"},
                "spec": {
                    "nodeName": "gpu-h100-a",
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "c",
                            "image": "vllm/vllm-openai:v0.10.1.1",
                            "resources": {
                                "limits": {"nvidia.com/gpu": "3"},
                                "requests": {"nvidia.com/gpu": "3"},
                            },
                        }
                    ],
                },
            },
        )

        inventory = await read_gpu_inventory(api)
        by_node = {n.node: n for n in inventory.nodes}
        assert by_node["gpu-h100-a"].capacity == 8 and by_node["gpu-h100-a"].allocatable == 7
        assert by_node["gpu-h100-a"].requested == 3 and by_node["gpu-h100-a"].available == 4
        assert by_node["gpu-h100-a"].memory_mib == 81559
        assert not by_node["gpu-h100-b"].schedulable and by_node["gpu-h100-b"].available == 0
        assert by_node["cpu-a"].product is None
        summary = inventory.by_product()
        assert summary["NVIDIA-H100-80GB-HBM3"] == {
            "nodes": 2,
            "capacity": 16,
            "allocatable": 7,
            "available": 4,
        }
        assert inventory.available_gpus() == {"NVIDIA-H100-80GB-HBM3": 4, "NVIDIA-L4": 0}
        assert inventory.largest_free_block("NVIDIA-H100-80GB-HBM3") == 4
    finally:
        await api.close()


async def test_preflight_own_manifests_apply_and_scope_rbac(cluster: Any, admin: KubernetesTarget) -> None:
    from app.deploy.preflight_install import PreflightInstall, render_preflight_install

    install = PreflightInstall(namespace="preflight-system", target_namespaces=["default"])
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "preflight-system"}}
    docs = render_preflight_install(install)
    ensure_valid(docs)
    await admin.apply([ns, *docs])
    # Act as Preflight's service account: it can deploy to "default" but not elsewhere, nor read Secrets.
    sa_user = "system:serviceaccount:preflight-system:preflight"
    api = cluster.api_client(cluster.admin_token)
    try:
        authz = k8s_client.AuthorizationV1Api(api)

        async def allowed(verb: str, group: str, resource: str, namespace: str | None) -> bool:
            review = await authz.create_subject_access_review(
                {
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SubjectAccessReview",
                    "spec": {
                        "user": sa_user,
                        "groups": ["system:serviceaccounts"],
                        "resourceAttributes": {
                            "verb": verb,
                            "group": group,
                            "resource": resource,
                            "namespace": namespace,
                        },
                    },
                }
            )
            return bool(review.status.allowed)

        assert await allowed("patch", "serving.kserve.io", "inferenceservices", "default")
        assert await allowed("list", "", "nodes", None)
        assert not await allowed("patch", "serving.kserve.io", "inferenceservices", "kube-system")
        assert not await allowed("get", "", "secrets", "default")
    finally:
        await api.close()


PROFILE = {
    "schema_version": 1,
    "model": "qwen-small",
    "prefill": {"overhead_ms": 12.0, "per_token_ms": 0.08},
    "decode": {"base_ms": 6.5, "per_seq_ms": 0.04, "per_context_token_ms": 0.00002, "table": None},
    "max_num_seqs": 64,
    "max_num_batched_tokens": 4096,
    "kv_cache": {"tokens": 300000, "block_size": 16},
    "jitter": {"cv": 0.0, "seed": 0},
}


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {
                "flavor": "deployment",
                "autoscaler": "none",
                "inference_pool": False,
                "exposure": {"kind": "ingress", "host": "llm.internal"},
                "vllm": {"quantization": "awq"},
            },
            id="plain-deployment-ingress",
        ),
        pytest.param(
            {
                "mode": "simulator",
                "performance_profile": PROFILE,
                "autoscaler": "keda",
                "served_model_name": "qwen-small",
                "tensor_parallel_size": 1,
            },
            id="simulator-keda",
        ),
        pytest.param(
            {"flavor": "kserve-serverless", "autoscaler": "none", "inference_pool": False}, id="serverless"
        ),
        pytest.param(
            {"flavor": "deployment", "autoscaler": "hpa", "tensor_parallel_size": 8}, id="deployment-hpa-tp8"
        ),
    ],
)
async def test_every_flavor_passes_the_servers_validation(
    admin: KubernetesTarget, overrides: dict[str, Any]
) -> None:
    """The API server (built-in validation, CRD schemas and their CEL rules) accepts every flavor."""
    docs = manifests(make_plan(**overrides))
    applied = await admin.apply(docs)
    assert {o.action for o in applied.objects} == {"created"}
    assert not (await admin.apply(docs)).changed


async def test_quota_rejection_is_reported_as_rejected_manifest(
    cluster: Any, admin: KubernetesTarget
) -> None:
    plan = make_plan()
    docs = manifests(plan)
    await admin.apply([d for d in docs if d["kind"] == "Namespace"])
    quota_name = "no-hpa"
    hard = {"count/horizontalpodautoscalers.autoscaling": "0"}
    api = cluster.api_client(cluster.admin_token)
    try:
        core = k8s_client.CoreV1Api(api)
        await core.create_namespaced_resource_quota(
            plan.namespace, {"metadata": {"name": quota_name}, "spec": {"hard": hard}}
        )
        # The quota controller would fill in status; admission enforces only a quota with a status.
        await core.patch_namespaced_resource_quota_status(
            quota_name, plan.namespace, {"status": {"hard": hard, "used": {k: "0" for k in hard}}}
        )
    finally:
        await api.close()
    with pytest.raises(ManifestRejectedError) as exc:
        await admin.apply(docs)
    assert exc.value.status == 403
    assert exc.value.ref == f"HorizontalPodAutoscaler/{plan.namespace}/chat-predictor"
    assert "exceeded quota: no-hpa" in str(exc.value)
