"""Export the knowledge base in the formats the loader reads, in a stable order with no volatile fields."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models as m
from seed.reader import flatten
from seed.schemas import BenchmarkRow, GpuRow, ModelRow, PriceRow, UseCaseRow


def _model_row(r: dict[str, Any]) -> dict[str, Any]:
    d = {k: v for k, v in r.items() if k not in ("updated_at", "seed_source")}
    d["hf_id"] = d.pop("id")
    return ModelRow.model_validate(d).model_dump(mode="json")


def _gpu_row(r: dict[str, Any]) -> dict[str, Any]:
    d = {k: v for k, v in r.items() if k not in ("updated_at", "seed_source")}
    return GpuRow.model_validate(d).model_dump(mode="json")


def _price_row(r: dict[str, Any]) -> dict[str, Any]:
    d = {k: v for k, v in r.items() if k not in ("id", "seed_source", "gpu_id")}
    d["gpu"] = d.pop("label")
    d["date"] = d.pop("price_date")
    return PriceRow.model_validate(d).model_dump(mode="json")


def _benchmark_row(r: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {
        "source": r["source"],
        "model": r["model_label"],
        "gpu": r["gpu_label"],
        "engine": r["engine_detail"],
    }
    renames = {"e2e_ms_mean": "e2e_latency_ms_mean", "e2e_ms_p95": "e2e_latency_ms_p95"}
    skip = {
        "id",
        "row_key",
        "model_id",
        "model_label",
        "gpu_id",
        "gpu_label",
        "engine",
        "engine_detail",
        "engine_version",
        "extra",
        "seed_source",
        "source",
    }
    for k, v in r.items():
        if k not in skip:
            d[renames.get(k, k)] = v
    extra = dict(r["extra"] or {})
    d["precision"] = extra.pop("precision_as_published", r["precision"])
    d.update(extra)
    return BenchmarkRow.model_validate(d).model_dump(mode="json", exclude_none=True)


def _usecase_row(r: dict[str, Any]) -> dict[str, Any]:
    d = {
        "id": r["id"],
        "task_type": r["task_type"],
        "name": r["name"],
        "description": r["description"],
        "examples": r["examples"],
        "source": r["source"],
        "reason": r["reason"],
        **r["slos"],
        **r["traffic"],
    }
    return UseCaseRow.model_validate(d).model_dump(mode="json")


async def export_all(*, session: AsyncSession) -> dict[str, Any]:
    async def rows(model: Any, *order: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in (await session.execute(select(model.__table__).order_by(*order))).mappings()]

    P, B = m.Price, m.Benchmark
    return {
        "gpus": {"kind": "gpus", "rows": [_gpu_row(r) for r in await rows(m.Gpu, m.Gpu.id)]},
        "models": {"kind": "models", "rows": [_model_row(r) for r in await rows(m.Model, m.Model.id)]},
        "prices": {
            "kind": "prices",
            "rows": [
                _price_row(r)
                for r in await rows(
                    P, P.source, P.gpu_id, P.kind, P.provider, P.region, P.instance_type, P.label, P.id
                )
            ],
        },
        "benchmarks": {
            "kind": "benchmarks",
            "rows": [_benchmark_row(r) for r in await rows(B, B.source, B.id)],
        },
        "usecases": {
            "kind": "usecases",
            "rows": [_usecase_row(r) for r in await rows(m.UseCaseTemplate, m.UseCaseTemplate.id)],
        },
    }


def write_dir(docs: dict[str, Any], directory: Path, fmt: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, doc in docs.items():
        if fmt == "json":
            path = directory / f"{kind}.json"
            path.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            path = directory / f"{kind}.csv"
            flat = [flatten(r) for r in doc["rows"]]
            columns = sorted({c for r in flat for c in r})
            with path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(flat)
        written.append(path)
    return written
