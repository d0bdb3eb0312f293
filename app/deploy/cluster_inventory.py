"""Read a cluster's GPU inventory: per node, the GPU product label, capacity, allocatable and in use.

The NVIDIA GPU operator's feature discovery labels nodes with `nvidia.com/gpu.product` (e.g.
NVIDIA-H100-80GB-HBM3), `nvidia.com/gpu.count` and `nvidia.com/gpu.memory` (MiB); the device plugin
publishes the `nvidia.com/gpu` extended resource in capacity/allocatable. The result feeds the
recommendation's `gpu_inventory` / `available_gpus`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import BaseModel, Field

from app.deploy.targets.kubernetes import ClusterUnreachableError, KubernetesTargetError, translate_api_error

log = logging.getLogger(__name__)

GPU_RESOURCE = "nvidia.com/gpu"
PRODUCT_LABEL = "nvidia.com/gpu.product"
MEMORY_LABEL = "nvidia.com/gpu.memory"


class NodeGPUs(BaseModel):
    node: str
    product: str | None = Field(None, description="nvidia.com/gpu.product label; None when unlabelled")
    memory_mib: int | None = Field(None, description="nvidia.com/gpu.memory label")
    capacity: int = 0
    allocatable: int = 0
    requested: int = Field(0, description="GPUs requested by pods scheduled on the node and not finished")
    schedulable: bool = Field(True, description="Ready and not cordoned")

    @property
    def available(self) -> int:
        return max(0, self.allocatable - self.requested) if self.schedulable else 0


class GPUInventory(BaseModel):
    nodes: list[NodeGPUs]

    def by_product(self) -> dict[str, dict[str, int]]:
        """product label -> {nodes, capacity, allocatable, available} over schedulable GPU nodes."""
        out: dict[str, dict[str, int]] = {}
        for n in self.nodes:
            if not n.product or n.capacity == 0:
                continue
            agg = out.setdefault(n.product, {"nodes": 0, "capacity": 0, "allocatable": 0, "available": 0})
            agg["nodes"] += 1
            agg["capacity"] += n.capacity
            agg["allocatable"] += n.allocatable if n.schedulable else 0
            agg["available"] += n.available
        return out

    def available_gpus(self) -> dict[str, int]:
        return {product: agg["available"] for product, agg in self.by_product().items()}

    def largest_free_block(self, product: str) -> int:
        """Most GPUs of one product free on a single node: the largest tensor-parallel group that fits."""
        return max((n.available for n in self.nodes if n.product == product), default=0)


def _quantity(value: Any) -> int:
    try:
        return int(str(value or "0"))
    except ValueError:
        return 0


def node_gpus(node: dict[str, Any]) -> NodeGPUs:
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    status = node.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    cordoned = bool((node.get("spec") or {}).get("unschedulable"))
    memory = labels.get(MEMORY_LABEL)
    return NodeGPUs(
        node=meta.get("name", "?"),
        product=labels.get(PRODUCT_LABEL),
        memory_mib=int(memory) if memory and str(memory).isdigit() else None,
        capacity=_quantity((status.get("capacity") or {}).get(GPU_RESOURCE)),
        allocatable=_quantity((status.get("allocatable") or {}).get(GPU_RESOURCE)),
        schedulable=ready and not cordoned,
    )


def gpus_requested_by_node(pods: Iterable[dict[str, Any]]) -> dict[str, int]:
    used: dict[str, int] = {}
    for pod in pods:
        spec = pod.get("spec") or {}
        node = spec.get("nodeName") or spec.get("node_name")
        phase = (pod.get("status") or {}).get("phase")
        if not node or phase in ("Succeeded", "Failed"):
            continue
        total = 0
        for c in spec.get("containers") or []:
            res = c.get("resources") or {}
            total += _quantity((res.get("requests") or res.get("limits") or {}).get(GPU_RESOURCE))
        used[node] = used.get(node, 0) + total
    return used


async def read_gpu_inventory(api_client: k8s_client.ApiClient, include_usage: bool = True) -> GPUInventory:
    """List nodes (and, with include_usage, pods) and summarise GPUs. Needs list on nodes (and pods)."""
    core = k8s_client.CoreV1Api(api_client)
    try:
        nodes = await core.list_node()
        node_dicts = [api_client.sanitize_for_serialization(n) for n in nodes.items]
        used: dict[str, int] = {}
        if include_usage:
            pods = await core.list_pod_for_all_namespaces(
                field_selector="status.phase!=Succeeded,status.phase!=Failed"
            )
            used = gpus_requested_by_node(api_client.sanitize_for_serialization(p) for p in pods.items)
    except ApiException as e:
        raise translate_api_error(e, "list", "nodes/pods (GPU inventory)") from e
    except (TimeoutError, aiohttp.ClientError, OSError) as e:
        raise ClusterUnreachableError(f"cannot reach the Kubernetes API server: {e}") from e
    inventory = []
    for node in node_dicts:
        n = node_gpus(node)
        inventory.append(n.model_copy(update={"requested": used.get(n.node, 0)}))
    log.debug("GPU inventory: %d nodes", len(inventory))
    return GPUInventory(nodes=inventory)


__all__ = ["GPUInventory", "KubernetesTargetError", "NodeGPUs", "read_gpu_inventory"]
