"""Whole-server purchase rows from catalog/server_prices.json (read its SERVERS.md), as ``purchase`` prices.

A server row bills ``gpus_per_instance`` GPUs at once (an 8-GPU SXM board is bought whole). Each row keeps
its source and the source's own words; Preflight's calls are in ``notes``:

- ``excludes_host`` marks GPU baseboards (no CPUs, memory, NICs or chassis): the planner adds the host.
- ``provider`` says how far to trust the row: ``complete server``, ``GPU baseboard``, ``unverified listing``,
  ``estimate``. The planner prefers the most recent complete server.
- ``server_power_w`` is the system's maximum power as the vendor states it (DGX user guides), taken from the
  file's power rows for the same GPU; for 8x L40S PCIe servers the midpoint of ServeTheHome's 4.3-5 kW
  typical range (the file stores the range in words only).
"""

from __future__ import annotations

from typing import Any

# The file's GPU labels -> catalog GPU ids.
GPU_IDS = {
    "H100-SXM": "H100-SXM-80GB",
    "H200": "H200-SXM-141GB",
    "B200": "B200-180GB",
    "A100-40GB": "A100-SXM-40GB",
    "A100-80GB": "A100-SXM-80GB",
    "MI300X": "MI300X-192GB",
    "L40S": "L40S-48GB",
}
L40S_SERVER_W = (4300 + 5000) / 2  # ServeTheHome: "typically using power in the 4.3-5kW range" (8x L40S)


def _trust(row: dict[str, Any]) -> tuple[str, bool]:
    """(provider label, is a baseboard without host) from the row's own words."""
    words = " ".join(str(row.get(k) or "") for k in ("includes", "notes", "form_factor")).lower()
    if "baseboard" in words and ("only" in words or "probably" in words or "ubb" in words):
        return "GPU baseboard", True
    if "estimate" in words:
        return "estimate", False
    if "unverified" in words or "whether a full server" in words:
        return "unverified listing", False
    return "complete server", False


def _notes(s: dict[str, Any]) -> str:
    text = f"{s['form_factor']}. Includes: {s.get('includes') or 'not stated'}. {s.get('notes') or ''}"
    return text.strip()[:2000]


def build_server_rows(servers: dict[str, Any]) -> list[dict[str, Any]]:
    urls = {s["id"]: s.get("where") for s in servers["sources"]}
    power: dict[str, float] = {}
    for s in servers["servers"]:
        gpu = GPU_IDS.get(s["gpu"])
        if gpu and s.get("power_max_w"):
            power.setdefault(gpu, float(s["power_max_w"]))
    power.setdefault("H200-SXM-141GB", power.get("H100-SXM-80GB", 0.0) or 10200.0)
    power.setdefault("L40S-48GB", L40S_SERVER_W)
    rows: list[dict[str, Any]] = []
    for s in servers["servers"]:
        gpu = GPU_IDS.get(s["gpu"])
        if gpu is None or not s.get("price_usd"):
            continue  # power-only rows, or a GPU the catalog does not have
        provider, baseboard = _trust(s)
        url = urls.get(s["source"])
        rows.append(
            {
                "gpu": gpu,
                "kind": "purchase",
                "provider": provider,
                "instance_type": s["id"],
                "gpus_per_instance": int(s["gpu_count"]),
                "usd_purchase": float(s["price_usd"]),
                "excludes_host": baseboard,
                "date": s.get("price_date"),
                "source": s["source"],
                "source_url": url if url and str(url).startswith("http") else None,
                "server_power_w": power.get(gpu) if int(s["gpu_count"]) == 8 else None,  # 8-GPU systems
                "notes": _notes(s),
            }
        )
    return rows
