"""The validating, idempotent seed loader.

``load_rows`` validates every row first and reports each bad one (file, row, field, reason). Only when all
rows are valid does it write, in one transaction, upserting on natural keys; it returns how many rows were
added, updated and unchanged per kind. ``--replace`` also deletes rows of that kind from the same source that
the file no longer has. A caller that wants a dry run rolls the transaction back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import Invalid
from app.names import AliasIndex, AmbiguousNameError
from db import models as m
from seed.reader import RawRow, read_seed_file
from seed.schemas import (
    ROW_MODELS,
    SEED_KINDS,
    BenchmarkRow,
    ExampleRow,
    GpuRow,
    ModelRow,
    PriceRow,
    SeedKind,
    UseCaseRow,
)
from seed.shared_formats import CONVERSION_ERROR

logger = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
# Load order respects foreign keys: prices and benchmarks name GPUs and models.
LOAD_ORDER: tuple[SeedKind, ...] = ("gpus", "models", "prices", "benchmarks", "usecases", "examples")


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} {self.row}: {self.field}: {self.reason}"


class SeedValidationError(Invalid, ValueError):
    """One or more rows are invalid; nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        head = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} invalid row(s); nothing was changed:\n{head}{more}")


@dataclass
class KindSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class LoadSummary:
    kinds: dict[str, KindSummary] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {k: vars(v) for k, v in self.kinds.items()}


# ----------------------------------------------------------------------------------------------------------
# validation


def _validate(file: str, raw: list[RawRow]) -> tuple[list[tuple[RawRow, BaseModel]], list[RowProblem]]:
    ok: list[tuple[RawRow, BaseModel]] = []
    problems: list[RowProblem] = []
    for r in raw:
        if "__not_an_object__" in r.data:
            problems.append(RowProblem(file, r.locator, "(row)", "expected an object"))
            continue
        if CONVERSION_ERROR in r.data:
            problems.append(RowProblem(file, r.locator, "(row)", str(r.data[CONVERSION_ERROR])))
            continue
        if "__extra_cells__" in r.data:
            problems.append(RowProblem(file, r.locator, "(row)", "more cells than header columns"))
            continue
        try:
            ok.append((r, ROW_MODELS[r.kind].model_validate(r.data)))
        except ValidationError as e:
            for err in e.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(row)"
                problems.append(RowProblem(file, r.locator, where, err["msg"]))
    return ok, problems


def _check_unique(file: str, kind: SeedKind, rows: list[tuple[RawRow, BaseModel]]) -> list[RowProblem]:
    if kind not in ("models", "gpus", "usecases", "examples"):
        return []
    key = {"models": "hf_id", "gpus": "id", "usecases": "id", "examples": "text"}[kind]
    seen: dict[Any, str] = {}
    problems = []
    for raw, row in rows:
        # An example is one sentence per field: the same sentence may label several fields.
        value = (row.field, row.text) if isinstance(row, ExampleRow) else getattr(row, key)
        if value in seen:
            problems.append(
                RowProblem(file, raw.locator, key, f"duplicate {value!r} (also at {seen[value]})")
            )
        seen[value] = raw.locator
    return problems


# ----------------------------------------------------------------------------------------------------------
# catalog name resolution


async def _alias_indexes(
    conn: AsyncConnection, pending: dict[SeedKind, list[tuple[RawRow, BaseModel]]]
) -> tuple[AliasIndex, AliasIndex]:
    """GPU and model names known to the database plus those arriving in this load."""
    gpus, models = AliasIndex(), AliasIndex()
    for gid, aliases in (await conn.execute(select(m.Gpu.id, m.Gpu.aliases))).all():
        gpus.add(gid, aliases or [])
    for mid, aliases in (await conn.execute(select(m.Model.id, m.Model.aliases))).all():
        models.add(mid, aliases or [])
    for _, row in pending.get("gpus", []):
        assert isinstance(row, GpuRow)
        gpus.add(row.id, row.aliases)
    for _, row in pending.get("models", []):
        assert isinstance(row, ModelRow)
        models.add(row.hf_id, row.aliases)
    return gpus, models


def _resolve(index: AliasIndex, name: str, what: str) -> tuple[str | None, str | None]:
    try:
        found = index.resolve(name)
    except AmbiguousNameError as e:
        return None, str(e)
    if found is None:
        return (
            None,
            f"unknown {what} {name!r}: add it to the catalog first (preflight seed load --kind {what}s)",
        )
    return found, None


# ----------------------------------------------------------------------------------------------------------
# row -> column values


_ENGINE_PATTERNS = [
    (re.compile(r"\bnim\b", re.I), "trtllm"),  # NIM runs TensorRT-LLM underneath
    (re.compile(r"tensorrt|trt-?llm", re.I), "trtllm"),
    (re.compile(r"\bvllm\b", re.I), "vllm"),
    (re.compile(r"sglang", re.I), "sglang"),
]
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


def parse_engine(detail: str) -> tuple[str, str | None]:
    """("vLLM 0.6.3.post1 ...") -> ("vllm", "0.6.3")."""
    engine = "other"
    for pattern, name in _ENGINE_PATTERNS:
        if pattern.search(detail):
            engine = name
            break
    version = _VERSION.search(detail)
    return engine, version.group(1) if version else None


_PRECISION = re.compile(r"\b(bf16|fp16|fp8|fp4|int8|int4|fp32)\b", re.I)


def normalize_precision(published: str) -> str:
    """ "fp16 (TRT-LLM 'Mixed')" -> "fp16"; unknown forms stay as written."""
    found = _PRECISION.search(published)
    return found.group(1).lower() if found else published.strip().lower()


def _model_values(row: ModelRow) -> dict[str, Any]:
    d = row.model_dump(mode="json")
    d["id"] = d.pop("hf_id")
    return d


def _gpu_values(row: GpuRow) -> dict[str, Any]:
    return row.model_dump(mode="json")


def _price_values(row: PriceRow, gpu_id: str) -> dict[str, Any]:
    d = row.model_dump(mode="json")
    d["label"] = d.pop("gpu")
    d["gpu_id"] = gpu_id
    d["price_date"] = d.pop("date")
    return d


_BENCH_COLUMNS = {c.name for c in m.Benchmark.__table__.columns}
_BENCH_RENAMES = {"e2e_latency_ms_mean": "e2e_ms_mean", "e2e_latency_ms_p95": "e2e_ms_p95"}


def _benchmark_values(row: BenchmarkRow, model_id: str, gpu_id: str) -> dict[str, Any]:
    d = row.model_dump(mode="json")
    engine, version = parse_engine(d["engine"])
    out: dict[str, Any] = {
        "model_id": model_id,
        "model_label": d.pop("model"),
        "gpu_id": gpu_id,
        "gpu_label": d.pop("gpu"),
        "engine": engine,
        "engine_detail": d.pop("engine"),
        "engine_version": version,
    }
    extra: dict[str, Any] = {}
    published_precision = d.pop("precision")
    out["precision"] = normalize_precision(published_precision)
    if out["precision"] != published_precision:
        extra["precision_as_published"] = published_precision
    for key, value in d.items():
        column = _BENCH_RENAMES.get(key, key)
        if column in _BENCH_COLUMNS and column not in ("id", "row_key", "extra", "seed_source"):
            out[column] = value
        elif value is not None:
            extra[key] = value
    out["extra"] = extra
    return out


def _usecase_values(row: UseCaseRow) -> dict[str, Any]:
    slo_keys = ("ttft_p90_ms", "tpot_p90_ms", "e2e_p95_ms", "quality", "reliability_pct")
    traffic_keys = (
        "prompt_length_avg",
        "prompt_length_p95",
        "generation_length_avg",
        "generation_length_p95",
        "burstiness",
        "active_fraction",
        "requests_per_active_user_per_minute",
        "peak_multiplier",
        "streaming",
    )
    d = row.model_dump(mode="json")
    return {
        "id": d["id"],
        "task_type": d["task_type"],
        "name": d["name"],
        "description": d["description"],
        "examples": d["examples"],
        "slos": {k: d[k] for k in slo_keys},
        "traffic": {k: d[k] for k in traffic_keys},
        "source": d["source"],
        "reason": d["reason"],
    }


def benchmark_row_keys(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Content hash of each row, with an ordinal for identical repeats, so repeated runs stay distinct."""
    counts: Counter[str] = Counter()
    keys = []
    for row in rows:
        digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:20]
        counts[digest] += 1
        keys.append(f"{digest}-{counts[digest]}")
    return keys


# ----------------------------------------------------------------------------------------------------------
# writing


_TABLES: dict[SeedKind, Any] = {
    "models": m.Model,
    "gpus": m.Gpu,
    "prices": m.Price,
    "benchmarks": m.Benchmark,
    "usecases": m.UseCaseTemplate,
    "examples": m.IntentExample,
}


def _natural_key(kind: SeedKind, values: dict[str, Any]) -> tuple[Any, ...]:
    if kind == "prices":
        return tuple(
            values.get(k)
            for k in (
                "source",
                "kind",
                "provider",
                "region",
                "instance_type",
                "gpu_id",
                "label",
                "price_date",
            )
        )
    if kind == "benchmarks":
        return (values["source"], values["row_key"])
    if kind == "examples":
        return (values["field"], values["text"])
    return (values["id"],)


def _comparable(kind: SeedKind, values: dict[str, Any]) -> dict[str, Any]:
    skip = (
        {"id", "updated_at", "seed_source", "embedding"}
        if kind in ("prices", "benchmarks")
        else {"updated_at", "seed_source", "embedding"}
    )
    return {k: v for k, v in values.items() if k not in skip}


async def _existing(conn: AsyncConnection, kind: SeedKind) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = _TABLES[kind].__table__
    rows = (await conn.execute(select(table))).mappings().all()
    return {_natural_key(kind, dict(r)): dict(r) for r in rows}


async def _upsert(
    conn: AsyncConnection, kind: SeedKind, values: list[dict[str, Any]], seed_source: str, replace: bool
) -> KindSummary:
    table = _TABLES[kind].__table__
    summary = KindSummary()
    existing = await _existing(conn, kind)
    to_insert: list[dict[str, Any]] = []
    incoming_keys = set()
    for v in values:
        key = _natural_key(kind, v)
        incoming_keys.add(key)
        old = existing.get(key)
        if old is None:
            to_insert.append({**v, "seed_source": seed_source})
            summary.added += 1
            continue
        new_cmp = _comparable(kind, v)
        old_cmp = {k: old.get(k) for k in new_cmp}
        if json.dumps(new_cmp, sort_keys=True, default=str) == json.dumps(
            old_cmp, sort_keys=True, default=str
        ):
            summary.unchanged += 1
            continue
        pk_cols = [c for c in table.primary_key.columns]
        where = [c == old[c.name] for c in pk_cols]
        await conn.execute(update(table).where(*where).values(**v, seed_source=seed_source))
        summary.updated += 1
    if to_insert:
        for start in range(0, len(to_insert), 500):
            await conn.execute(insert(table), to_insert[start : start + 500])
    if replace:
        stale = [
            old
            for key, old in existing.items()
            if key not in incoming_keys and _same_source(kind, old, values, seed_source)
        ]
        pk = next(iter(table.primary_key.columns))
        ids = [old[pk.name] for old in stale]
        if ids:
            await conn.execute(delete(table).where(pk.in_(ids)))
        summary.deleted = len(ids)
    return summary


def _same_source(
    kind: SeedKind, old: dict[str, Any], incoming: list[dict[str, Any]], seed_source: str
) -> bool:
    """--replace scope: prices and benchmarks by their `source` field; catalog rows by their file."""
    if kind in ("prices", "benchmarks"):
        return old.get("source") in {v.get("source") for v in incoming}
    return old.get("seed_source") == seed_source


# ----------------------------------------------------------------------------------------------------------
# public entry points


async def load_rows(
    conn: AsyncConnection,
    batches: list[tuple[str, dict[SeedKind, list[RawRow]]]],
    *,
    replace: bool = False,
) -> LoadSummary:
    """Validate and write rows from one or more files. Raises SeedValidationError before writing anything."""
    validated: dict[SeedKind, list[tuple[RawRow, BaseModel]]] = defaultdict(list)
    origin: dict[SeedKind, str] = {}
    problems: list[RowProblem] = []
    for file, by_kind in batches:
        for kind, raw_rows in by_kind.items():
            ok, bad = _validate(file, raw_rows)
            problems += bad + _check_unique(file, kind, ok)
            validated[kind] += ok
            origin[kind] = file
    gpus, models = await _alias_indexes(conn, validated)
    values: dict[SeedKind, list[dict[str, Any]]] = defaultdict(list)
    for kind in LOAD_ORDER:
        rows = validated.get(kind, [])
        file = origin.get(kind, "")
        if kind == "benchmarks":
            keys = benchmark_row_keys(row.model_dump(mode="json", exclude_none=True) for _, row in rows)
        for i, (raw, row) in enumerate(rows):
            if isinstance(row, PriceRow):
                gpu_id, err = _resolve(gpus, row.gpu, "gpu")
                if err:
                    problems.append(RowProblem(file, raw.locator, "gpu", err))
                    continue
                assert gpu_id is not None
                values[kind].append(_price_values(row, gpu_id))
            elif isinstance(row, BenchmarkRow):
                gpu_id, gerr = _resolve(gpus, row.gpu, "gpu")
                model_id, merr = _resolve(models, row.model, "model")
                if gerr:
                    problems.append(RowProblem(file, raw.locator, "gpu", gerr))
                if merr:
                    problems.append(RowProblem(file, raw.locator, "model", merr))
                if gerr or merr:
                    continue
                assert gpu_id is not None and model_id is not None
                v = _benchmark_values(row, model_id, gpu_id)
                v["row_key"] = keys[i]
                problems += _benchmark_sanity(file, raw.locator, v)
                values[kind].append(v)
            elif isinstance(row, ModelRow):
                values[kind].append(_model_values(row))
            elif isinstance(row, GpuRow):
                values[kind].append(_gpu_values(row))
            elif isinstance(row, UseCaseRow):
                values[kind].append(_usecase_values(row))
            elif isinstance(row, ExampleRow):
                values[kind].append(row.model_dump())
    if problems:
        raise SeedValidationError(problems)

    summary = LoadSummary()
    for kind in LOAD_ORDER:
        if kind not in validated:
            continue
        summary.kinds[kind] = await _upsert(conn, kind, values[kind], origin[kind], replace)
    if "usecases" in validated:
        await embed_usecases(conn)
    if "examples" in validated:
        await embed_examples(conn)
    return summary


def _benchmark_sanity(file: str, locator: str, v: dict[str, Any]) -> list[RowProblem]:
    """Impossible values are refused at load; data health reports the same checks on what is stored."""
    from app.datahealth import benchmark_impossibilities

    return [RowProblem(file, locator, f, reason) for f, reason in benchmark_impossibilities(v)]


async def embed_examples(conn: AsyncConnection) -> None:
    """Embed the labelled examples that have no vector yet (the bundled vectors serve the bundled texts)."""
    from app.intent.examples import bundled_vectors_by_text

    table = m.IntentExample
    missing = (await conn.execute(select(table.id, table.text).where(table.embedding.is_(None)))).all()
    if not missing:
        return
    known = bundled_vectors_by_text()
    from app.embeddings import embed

    for row_id, text in missing:
        # One text at a time: the numpy encoder pads a batch to its longest member.
        vector = known.get(text)
        if vector is None:
            vector = embed([text])[0]
        await conn.execute(
            update(table).where(table.id == row_id).values(embedding=[float(x) for x in vector])
        )


async def embed_usecases(conn: AsyncConnection) -> None:
    """(Re)compute template and example embeddings where missing or stale."""
    from app.embeddings import embed

    templates = (await conn.execute(select(m.UseCaseTemplate.__table__))).mappings().all()
    if not templates:
        return
    texts = [f"{t['name']}: {t['description']}" for t in templates]
    vectors = embed(texts)
    await conn.execute(delete(m.UseCaseExample))
    example_rows = [(t["id"], ex) for t in templates for ex in (t["examples"] or [])]
    example_vectors = embed([ex for _, ex in example_rows])
    for t, vec in zip(templates, vectors, strict=True):
        await conn.execute(
            update(m.UseCaseTemplate).where(m.UseCaseTemplate.id == t["id"]).values(embedding=vec.tolist())
        )
    if example_rows:
        await conn.execute(
            insert(m.UseCaseExample),
            [
                {"template_id": tid, "text": ex, "embedding": vec.tolist()}
                for (tid, ex), vec in zip(example_rows, example_vectors, strict=True)
            ],
        )


async def load_files(
    conn: AsyncConnection, paths: list[Path], *, kind: SeedKind | None = None, replace: bool = False
) -> LoadSummary:
    batches = [(str(p), read_seed_file(p, kind)) for p in paths]
    return await load_rows(conn, batches, replace=replace)


def bundled_files() -> list[Path]:
    return [BUNDLED_DIR / f"{k}.json" for k in LOAD_ORDER if (BUNDLED_DIR / f"{k}.json").exists()]


async def seed_if_empty(conn: AsyncConnection) -> LoadSummary | None:
    """Load the bundled seed files into an empty catalog (first use of a database)."""
    count = (await conn.execute(select(func.count()).select_from(m.Model))).scalar_one()
    if count:
        return None
    files = bundled_files()
    if not files:
        logger.warning("no bundled seed files in %s; the catalog stays empty", BUNDLED_DIR)
        return None
    logger.info("seeding an empty database from %d bundled files", len(files))
    summary = await load_files(conn, files)
    return summary


__all__ = ["SEED_KINDS", "LoadSummary", "RowProblem", "SeedValidationError", "load_files", "load_rows"]
