"""Curate measured kernel latencies from AIConfigurator-core into compact step-time tables (developer-run).

Not used at run time and not imported by the app: it needs pyarrow and the ``aiconfigurator-core`` wheel,
installed in a separate virtual environment:

    python3.11 -m venv /work/venvs/aic
    /work/venvs/aic/bin/pip install --no-deps aiconfigurator-core==0.12.0 pyarrow
    /work/venvs/aic/bin/python seed/curate_kernels.py            # writes seed/data/kernel_tables.json

It reads the vLLM tables under ``aiconfigurator_core/systems/data/<system>/<op>/vllm/<version>/`` (GEMM,
generation attention, custom all-reduce) and keeps, per system and engine version:
- GEMM: per row count m (tokens in a step) the median achieved TFLOP/s and weight-read TB/s over the large
  weight shapes (n x k >= 4096^2), bf16 and fp8;
- generation attention: the median achieved KV-cache read bandwidth (bf16 KV, large batch x context);
- all-reduce: latency by GPU count and message size (CUDA-graph custom all-reduce, bf16).
From these, ``derived`` holds what the performance model takes: weight-streaming and GEMM efficiencies
against the datasheet, the GEMM row count at half efficiency and the small-message all-reduce latency.
MoE tables exist in the package but are not curated yet.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent / "data" / "kernel_tables.json"
GPUS_FILE = Path(__file__).resolve().parent / "data" / "gpus.json"
# AIConfigurator system name -> catalog GPU id; efficiencies are relative to that GPU's datasheet bandwidth
# and dense bf16 peak in seed/data/gpus.json (the figures the performance model uses).
SYSTEMS = {
    "h100_sxm": "H100-SXM-80GB",
    "h200_sxm": "H200-SXM-141GB",
    "b200_sxm": "B200-180GB",
    "a100_sxm": "A100-SXM-80GB",
    "l40s": "L40S-48GB",
}
M_GRID = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
BYTES = {"bfloat16": 2.0, "fp8": 1.0}


def _versions(base: Path, op: str) -> list[Path]:
    root = base / op / "vllm"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def _gemm(path: Path) -> dict[str, Any]:
    t = pq.read_table(path, columns=["gemm_dtype", "m", "n", "k", "latency", "kernel_source"]).to_pydict()
    by: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for dtype, m, n, k, lat in zip(t["gemm_dtype"], t["m"], t["n"], t["k"], t["latency"], strict=True):
        if dtype not in BYTES or m not in M_GRID or n * k < 4096 * 4096 or lat <= 0:
            continue
        flops = 2.0 * m * n * k / (lat * 1e-3) / 1e12  # latency in ms
        weight_tb_s = n * k * BYTES[dtype] / (lat * 1e-3) / 1e12
        by[(dtype, m)].append((flops, weight_tb_s))
    out: dict[str, Any] = {}
    for dtype in BYTES:
        rows = [
            {
                "m": m,
                "tflops": round(statistics.median(v[0] for v in by[(dtype, m)]), 2),
                "weight_tb_s": round(statistics.median(v[1] for v in by[(dtype, m)]), 4),
                "shapes": len(by[(dtype, m)]),
            }
            for m in M_GRID
            if by.get((dtype, m))
        ]
        if rows:
            out[dtype] = rows
    return out


def _attention(path: Path) -> dict[str, Any]:
    cols = ["batch_size", "isl", "step", "num_key_value_heads", "head_dim", "kv_cache_dtype", "latency"]
    table = pq.read_table(path)
    t = table.select(cols).to_pydict()
    # Sliding-window rows (window_size > 0, where the column exists) read less than the full context.
    windows = (
        table.column("window_size").to_pylist()
        if "window_size" in table.column_names
        else [0] * len(t["isl"])
    )
    rates = []
    for b, isl, step, kvh, hd, kvd, lat, win in zip(*(t[c] for c in cols), windows, strict=True):
        ctx = isl + step  # the decode step `step` of a prompt of `isl` tokens
        if kvd != "bfloat16" or win or b * ctx < 64 * 2048 or lat <= 0:
            continue
        kv_bytes = b * ctx * 2 * kvh * hd * 2.0  # K and V of one layer
        rates.append(kv_bytes / (lat * 1e-3) / 1e12)
    return {"kv_tb_s": round(statistics.median(rates), 4), "rows": len(rates)} if rates else {}


def _allreduce(path: Path) -> list[dict[str, Any]]:
    cols = ["allreduce_dtype", "num_gpus", "message_size", "latency", "backend"]
    t = pq.read_table(path, columns=cols).to_pydict()
    return [
        {"gpus": int(n), "bytes": int(size) * 2, "latency_ms": round(float(lat), 5)}
        for dtype, n, size, lat, backend in zip(*(t[c] for c in cols), strict=True)
        if dtype == "bfloat16" and backend == "vllm_graph"
    ]


def _derived(sheet: dict[str, Any], tables: dict[str, Any]) -> dict[str, Any]:
    bw, bf16_peak = float(sheet["mem_bw_tb_s"]), float(sheet["bf16_tflops"])
    gemm = tables.get("gemm", {}).get("bfloat16", [])
    out: dict[str, Any] = {}
    if gemm:
        small = [r["weight_tb_s"] for r in gemm if r["m"] <= 8]
        big = max(r["tflops"] for r in gemm)
        out["bw_eff"] = round(statistics.median(small) / bw, 4)
        out["flops_eff"] = round(big / bf16_peak, 4)
        # tflops(m) ~ big * m / (m + m0): m0 from the compute-bound rows (m >= 64).
        m0s = [r["m"] * (big / r["tflops"] - 1.0) for r in gemm if r["m"] >= 64 and r["tflops"] > 0]
        out["gemm_m0"] = round(statistics.median(m0s), 2) if m0s else None
    if tables.get("attention", {}).get("kv_tb_s"):
        out["kv_eff"] = round(tables["attention"]["kv_tb_s"] / bw, 4)
    ar = [r for r in tables.get("allreduce", []) if r["bytes"] <= 64 * 1024 and r["gpus"] >= 2]
    if ar:
        out["allreduce_latency_ms_per_hop"] = round(
            statistics.median(r["latency_ms"] / math.log2(r["gpus"]) for r in ar), 5
        )
    return out


def curate(data_dir: Path) -> dict[str, Any]:
    version = importlib.metadata.version("aiconfigurator-core")
    sheets = {r["id"]: r for r in json.loads(GPUS_FILE.read_text())["rows"]}
    systems: dict[str, Any] = {}
    for system, gpu in SYSTEMS.items():
        base = data_dir / system
        entry: dict[str, Any] = {"gpu": gpu, "tables": {}}
        for op, reader, name in (
            ("gemm", _gemm, "gemm_perf.parquet"),
            ("attention", _attention, "generation_attention_perf.parquet"),
            ("comm", _allreduce, "custom_allreduce_perf.parquet"),
        ):
            dirs = [d for d in _versions(base, op) if (d / name).exists()]
            if not dirs:
                continue
            newest = max(dirs, key=lambda d: tuple(int(x) for x in d.name.split(".") if x.isdigit()))
            key = "allreduce" if op == "comm" else op
            entry["tables"][key] = reader(newest / name)
            entry.setdefault("engine_versions", {})[key] = f"vllm {newest.name}"
        if entry["tables"]:
            entry["derived"] = _derived(sheets[gpu], entry["tables"])
            systems[system] = entry
    return {
        "kind": "kernel_tables",
        "description": "Measured vLLM kernel latencies condensed per GPU (seed/curate_kernels.py)",
        "provenance": {
            "package": "aiconfigurator-core",
            "version": version,
            "licence": "Apache-2.0",
            "path": "aiconfigurator_core/systems/data/<system>/<op>/vllm/<version>/",
        },
        "systems": systems,
    }


def main() -> None:
    import aiconfigurator_core

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    data_dir = Path(aiconfigurator_core.__file__).parent / "systems" / "data"
    doc = curate(data_dir)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    for system, entry in doc["systems"].items():
        sys.stdout.write(f"{system}: {entry['engine_versions']} {entry['derived']}\n")


if __name__ == "__main__":
    main()
