"""GPU utilisation of a deployment from NVIDIA's DCGM exporter, read through Prometheus.

The exporter labels its series with the pod it attributes a GPU to (``pod`` or, relabelled by a scrape
config, ``exported_pod``); a deployment's pods are named after it. None means "unavailable": no Prometheus
configured, not reachable, or no DCGM series for these pods. Nothing here guesses a number.
"""

from __future__ import annotations

import httpx

GPU_UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL"


def utilisation_query(pod_prefix: str) -> str:
    match = f'"{pod_prefix}-.*"'
    return f"avg({GPU_UTIL_METRIC}{{pod=~{match}}} or {GPU_UTIL_METRIC}{{exported_pod=~{match}}})"


async def gpu_utilisation(
    prometheus_url: str | None, pod_prefix: str, *, timeout_s: float = 5.0
) -> float | None:
    """Mean GPU utilisation (0-1) over the deployment's GPUs now, or None when it cannot be read."""
    if not prometheus_url:
        return None
    url = prometheus_url.rstrip("/") + "/api/v1/query"
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            resp = await client.get(url, params={"query": utilisation_query(pod_prefix)})
            resp.raise_for_status()
            body = resp.json()
    except (httpx.HTTPError, ValueError):
        return None
    result = (body.get("data") or {}).get("result") or []
    if body.get("status") != "success" or not result:
        return None
    try:
        return float(result[0]["value"][1]) / 100.0
    except (KeyError, IndexError, TypeError, ValueError):
        return None
