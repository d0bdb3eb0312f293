"""A planner catalog over the bundled seed files (seed/data), for pure planning tests without a database.

The same rows the database is loaded from: architectures, context windows, published checkpoints and scores.
Prices are the caller's (one on-demand row per GPU, or purchase rows), so a test states what it assumes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from app.perf.memory import param_counts
from app.planning.catalog import REPO_ROOT, arch_from_catalog_record, gpu_spec_from_row
from app.planning.cost import PriceRow
from app.planning.plan import GpuEntry, ModelEntry, PlanCatalog
from app.planning.quality import ModelFacts, QualityProfile, quality_profiles, task_quality

SEED = REPO_ROOT / "seed" / "data"


@cache
def seed_rows(kind: str) -> dict[str, dict[str, Any]]:
    rows = json.loads((SEED / f"{kind}.json").read_text())["rows"]
    key = "hf_id" if kind == "models" else "id"
    return {r[key]: r for r in rows}


def recommendable_models() -> list[str]:
    return [mid for mid, r in seed_rows("models").items() if r["role"] == "recommendable"]


@cache
def seed_profiles() -> dict[str, QualityProfile]:
    """Quality standings of every recommendable seed model (the whole catalog is one comparison)."""
    facts = []
    for mid in recommendable_models():
        r = seed_rows("models")[mid]
        pc = param_counts(arch_from_catalog_record(r))
        facts.append(
            ModelFacts(
                id=mid,
                family=r["family"],
                total_params_b=pc.total / 1e9,
                active_params_b=pc.active / 1e9,
                scores=tuple(r["quality"]),
            )
        )
    return quality_profiles(facts)


def seed_catalog(
    model_ids: Sequence[str],
    gpu_prices: Mapping[str, float],
    *,
    prices: Sequence[PriceRow] | None = None,
    precisions: Sequence[str] | None = None,
) -> PlanCatalog:
    """Models and GPUs from the seed files; ``gpu_prices`` gives each GPU one on-demand $/GPU-hour row
    unless ``prices`` is given."""
    rows = seed_rows("models")
    gpu_rows = seed_rows("gpus")
    profiles = seed_profiles()
    archs = {mid: arch_from_catalog_record(rows[mid]) for mid in model_ids}
    models = {
        mid: ModelEntry(
            id=mid,
            family=rows[mid]["family"],
            arch=archs[mid],
            quality=task_quality(profiles[mid], "chatbot"),
            context_window=rows[mid]["context_window_tokens"] or rows[mid]["max_position_embeddings"],
            checkpoints=tuple(rows[mid].get("checkpoints") or ()),
            profile=profiles[mid],
            params_b=rows[mid]["params_computed_b"],
        )
        for mid in model_ids
    }
    gpus = {
        gid: GpuEntry(id=gid, spec=gpu_spec_from_row(gpu_rows[gid]), tdp_w=gpu_rows[gid].get("tdp_w"))
        for gid in gpu_prices
    }
    price_rows = (
        list(prices)
        if prices is not None
        else [
            PriceRow(
                id=i, gpu_id=gid, kind="on_demand", provider=f"Cloud{i}", source="test", usd_per_gpu_hour=p
            )
            for i, (gid, p) in enumerate(gpu_prices.items())
        ]
    )
    triples = [
        (mid, gid, p)
        for mid in model_ids
        for gid in gpu_prices
        for p in rows[mid]["precisions"]
        if (precisions is None or p in precisions) and (p != "fp8" or gpus[gid].spec.fp8_tflops)
    ]
    reference = {
        mid: ModelEntry(
            id=mid,
            family=r["family"],
            arch=arch_from_catalog_record(r),
            quality=task_quality(profiles[mid], "chatbot"),
            profile=profiles[mid],
            params_b=r["params_computed_b"],
        )
        for mid, r in rows.items()
        if mid in profiles and mid not in models
    }
    return PlanCatalog(
        models=models, gpus=gpus, prices=price_rows, candidates=triples, reference_models=reference
    )


def seed_prices(gpu_ids: Sequence[str]) -> list[PriceRow]:
    """The bundled price rows of these GPUs (rental and purchase, servers included)."""
    rows = json.loads((SEED / "prices.json").read_text())["rows"]
    return [
        PriceRow(
            id=i,
            gpu_id=r["gpu"],
            kind=r["kind"],
            provider=r["provider"],
            source=r["source"],
            region=r.get("region"),
            instance_type=r.get("instance_type"),
            gpus_per_instance=r.get("gpus_per_instance"),
            usd_per_gpu_hour=r.get("usd_per_gpu_hour"),
            usd_purchase=r.get("usd_purchase"),
            usd_purchase_high=r.get("usd_purchase_high"),
            date=r.get("date"),
            excludes_host=bool(r.get("excludes_host")),
            server_power_w=r.get("server_power_w"),
        )
        for i, r in enumerate(rows)
        if r["gpu"] in gpu_ids
    ]
