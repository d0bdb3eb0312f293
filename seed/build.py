"""Build the curated seed files in seed/data/ from the shared data directory.

Run: ``.venv/bin/python -m seed.build [--shared DIR] [--out DIR] [--check]``

It reads catalog/ and published/ under the shared data directory (default: ``../shared/data`` next to the
repository), validates every row with seed.schemas, checks that every GPU and model label used by a price or a
measurement resolves to exactly one catalog row, prints the parameter-count comparison, and writes
seed/data/{models,gpus,prices,benchmarks,usecases}.json and seed/sources.json. The output is deterministic:
running it twice gives identical files. ``--check`` writes nothing and fails if the files are out of date.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from seed.aliases import alias_key, build_index
from seed.curate_gpus import build_gpu_rows
from seed.curate_measurements import MEASUREMENT_COLLECTED, build_benchmark_rows, build_price_rows
from seed.curate_models import attach_quality_scores, build_model_rows
from seed.curate_servers import build_server_rows
from seed.params import ParamCount, relative_difference
from seed.schemas import ROW_MODELS, SeedKind
from seed.usecase_templates import PREFLIGHT, SEED_DESIGN, USE_CASES

log = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent
DEFAULT_SHARED = SEED_DIR.parent.parent / "shared" / "data"
HF_TOLERANCE = 0.02  # computed vs exact HF Hub count
STATED_TOLERANCE = 0.05  # computed vs the card's rounded figure (vision towers, MTP modules, rounding)


class SeedBuildError(Exception):
    """The shared data and the curation tables disagree; the message says what to fix."""


@dataclass
class SeedFiles:
    documents: dict[str, dict[str, Any]]  # kind -> file document
    sources: dict[str, Any]
    params_table: list[tuple[str, float, float | None, float | None, float | None, float | None]]


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise SeedBuildError(f"cannot read {path}: {e}") from e
    return data


def _validate(kind: SeedKind, rows: list[dict[str, Any]]) -> None:
    model = ROW_MODELS[kind]
    errors: list[str] = []
    for i, row in enumerate(rows):
        try:
            model.model_validate(row)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(p) for p in err["loc"])
                errors.append(f"{kind}[{i}] {loc}: {err['msg']}")
    if errors:
        raise SeedBuildError("invalid seed rows:\n" + "\n".join(errors[:50]))


def _check_aliases(kind: str, rows: list[tuple[str, list[str]]]) -> dict[str, set[str]]:
    index = build_index(rows)
    clashes = {key: ids for key, ids in index.items() if len(ids) > 1}
    if clashes:
        raise SeedBuildError(f"{kind}: aliases shared by several rows: {clashes}")
    return index


def _check_resolves(what: str, labels: set[str], index: dict[str, set[str]]) -> None:
    missing = sorted(label for label in labels if len(index.get(alias_key(label), set())) != 1)
    if missing:
        raise SeedBuildError(f"{what} labels that do not resolve to exactly one row: {missing}")


def _sources(shared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}

    def add(entry: dict[str, Any], origin: str) -> None:
        sid = entry["id"]
        body = {k: v for k, v in entry.items() if k != "id"}
        if sid in merged:
            known = {k: v for k, v in merged[sid].items() if k != "origin"}
            if known != body:
                raise SeedBuildError(f"source id {sid!r} has different content in {origin}")
            if origin not in merged[sid]["origin"]:
                merged[sid]["origin"].append(origin)
            return
        merged[sid] = {**body, "origin": [origin]}

    for entry in shared["published"]["sources"]:
        add(entry, "published/serving_measurements.json")
    for entry in shared["prices"]["sources"]:
        add(entry, "catalog/gpu_prices.json")
    for record in shared["reference_gpus"]["gpus"]:
        for entry in record.get("sources", []):
            add(entry, "catalog/reference_gpus.json")
    for name, origin in (
        ("servers", "catalog/server_prices.json"),
        ("quality", "catalog/quality_scores.json"),
    ):
        for entry in (shared.get(name) or {}).get("sources", []):
            if entry["id"] in merged:  # the same id in another file: keep the first, note both origins
                merged[entry["id"]]["origin"].append(origin)
                continue
            add(entry, origin)
    for sid, text in MEASUREMENT_COLLECTED.items():
        merged[sid]["collected_as"] = {"date": text[0], "basis": text[1]}
    merged[SEED_DESIGN] = {
        "title": "Product owner's design: 'System-Level Architecture for Pre-Deployment Assistant', sections "
        "2 "
        "(Use Case -> SLO Mapping) and 6d (Use Case SLO Templates)",
        "where": "shared/seeds/000_7cb06189fb00be77.txt",
        "date": None,
        "origin": ["shared/seeds"],
    }
    merged[PREFLIGHT] = {
        "title": "Preflight's own judgement; the row's reason says why. Never a measurement.",
        "where": "seed/usecase_templates.py, seed/model_curation.py, seed/gpu_curation.py",
        "date": None,
        "origin": ["seed"],
    }
    return {
        "description": "Every source id used in seed/data/*.json (price and benchmark `source`, GPU "
        "`source.fields`), keyed by id. `origin` names the shared data file(s) that list the source. Model "
        "provenance is given as URLs inside each model row's `source`.",
        "sources": dict(sorted(merged.items())),
    }


def build(shared_dir: Path) -> SeedFiles:
    shared = {
        "models": _read(shared_dir / "catalog" / "models.json"),
        "reference_models": _read(shared_dir / "catalog" / "reference_models.json"),
        "reference_gpus": _read(shared_dir / "catalog" / "reference_gpus.json"),
        "prices": _read(shared_dir / "catalog" / "gpu_prices.json"),
        "published": _read(shared_dir / "published" / "serving_measurements.json"),
    }
    for name, file in (("servers", "server_prices.json"), ("quality", "quality_scores.json")):
        if (shared_dir / "catalog" / file).exists():
            shared[name] = _read(shared_dir / "catalog" / file)
    try:
        model_results = build_model_rows(shared["models"], shared["reference_models"])
        gpus, unmatched_tdp = build_gpu_rows(shared["published"], shared["reference_gpus"], shared["prices"])
        prices = build_price_rows(shared["prices"])
        if "servers" in shared:
            prices += build_server_rows(shared["servers"])
        benchmarks = build_benchmark_rows(shared["published"])
    except (KeyError, ValueError) as e:
        raise SeedBuildError(f"curation does not match the shared data: {e}") from e
    models = [row for row, _ in model_results]
    if "quality" in shared:
        attach_quality_scores(models, shared["quality"])

    for kind, rows in (
        ("models", models),
        ("gpus", gpus),
        ("prices", prices),
        ("benchmarks", benchmarks),
        ("usecases", USE_CASES),
    ):
        _validate(kind, rows)  # type: ignore[arg-type]
    gpu_index = _check_aliases("gpus", [(g["id"], g["aliases"]) for g in gpus])
    model_index = _check_aliases("models", [(m["hf_id"], m["aliases"]) for m in models])
    _check_resolves("GPU (benchmarks)", {b["gpu"] for b in benchmarks}, gpu_index)
    _check_resolves("GPU (prices)", {p["gpu"] for p in prices}, gpu_index)
    _check_resolves("model (benchmarks)", {b["model"] for b in benchmarks}, model_index)
    task_types = {u["task_type"] for u in USE_CASES}
    if len(task_types) < 8:
        raise SeedBuildError(f"use-case templates cover only {sorted(task_types)}")

    table = _params_table(model_results)
    bad = [t for t in table if t[3] is not None and abs(t[3]) > HF_TOLERANCE]
    if bad:
        raise SeedBuildError(f"computed parameter counts disagree with the HF Hub count by >2%: {bad}")

    collected = shared["models"].get("collected")
    documents = {
        "models": {
            "kind": "models",
            "description": "Catalog models (role recommendable) from catalog/models.json and reference "
            "models "
            "(role reference, never recommended) from catalog/reference_models.json. Architecture and card "
            "facts "
            "are copied unchanged; other config keys are in `config`, provenance in `source`, Preflight's "
            "calls "
            "(tasks, domains, approval, precisions, quality tiers, assumptions) in `judgements`. "
            "params_computed_b is computed by seed/params.py.",
            "collected": collected,
            "rows": models,
        },
        "gpus": {
            "kind": "gpus",
            "description": "GPU profiles: published gpus[] joined with catalog/reference_gpus.json "
            "(supplements "
            "correct and add fields; dense figures). source.fields maps each field to source ids in "
            "seed/sources.json; judgements hold Preflight's calls (Kubernetes labels, interconnect, "
            "ambiguous "
            "aliases). TDP entries of the price file that match no GPU: "
            + ("; ".join(unmatched_tdp) or "none")
            + ". The published placeholder entry 'GH200-120GB / GB200 / L40 / RTX-6000-Pro' is replaced by "
            "the "
            "reference records; no measurement uses an RTX 6000 Pro.",
            "collected": shared["reference_gpus"].get("collected"),
            "rows": gpus,
        },
        "prices": {
            "kind": "prices",
            "description": "All rows of catalog/gpu_prices.json, unchanged, with source_url from its sources "
            "list "
            "and excludes_host set where the row's notes say the host VM is not included (SkyPilot GCP "
            "accelerator rows). `gpu` keeps the price file's label; the loader resolves it through GPU "
            "aliases. "
            "Read PRICES.md before using a number: most are region-specific snapshots.",
            "collected": shared["prices"].get("collected"),
            "rows": prices,
        },
        "benchmarks": {
            "kind": "benchmarks",
            "description": "All measurements of published/serving_measurements.json, unchanged (extra keys "
            "kept), with `collected` set from the source's date (see seed/sources.json collected_as). "
            "Engines, "
            "batching modes and metric definitions differ between sources: read published/README.md.",
            "collected": collected,
            "rows": benchmarks,
        },
        "usecases": {
            "kind": "usecases",
            "description": "Use-case templates, one per task type: default SLOs and traffic shape. `source` "
            "is "
            "seed_design (the product owner's templates) or preflight_judgement; `reason` explains each "
            "choice.",
            "collected": collected,
            "rows": USE_CASES,
        },
    }
    return SeedFiles(documents=documents, sources=_sources(shared), params_table=table)


def _params_table(
    results: list[tuple[dict[str, Any], ParamCount]],
) -> list[tuple[str, float, float | None, float | None, float | None, float | None]]:
    """(hf_id, computed B, HF B, diff vs HF, stated B, diff vs stated) per model."""
    table = []
    for row, count in results:
        hf = row.get("hf_safetensors_params")
        stated = row.get("params_total_b")
        hf_b = hf / 1e9 if hf else None
        d_hf = relative_difference(count.total + count.checkpoint_scale_elements, hf) if hf else None
        d_stated = relative_difference(count.total_b, stated) if stated else None
        table.append((row["hf_id"], round(count.total_b, 3), hf_b, d_hf, stated, d_stated))
    return table


def format_params_table(
    table: list[tuple[str, float, float | None, float | None, float | None, float | None]],
) -> str:
    def pct(v: float | None) -> str:
        return f"{v * 100:+6.2f}%" if v is not None else "      -"

    def num(v: float | None) -> str:
        return f"{v:9.3f}" if v is not None else "        -"

    lines = [f"{'model':46s} {'computed B':>10s} {'HF B':>9s} {'vs HF':>7s} {'stated B':>9s} {'vs card':>7s}"]
    for hf_id, computed, hf_b, d_hf, stated, d_stated in table:
        flag = " <- check" if d_stated is not None and abs(d_stated) > STATED_TOLERANCE else ""
        lines.append(
            f"{hf_id:46s} {computed:10.3f} {num(hf_b)} {pct(d_hf)} {num(stated)} {pct(d_stated)}{flag}"
        )
    return "\n".join(lines)


def _dump(document: dict[str, Any], one_row_per_line: bool) -> str:
    if not one_row_per_line:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    head = {k: v for k, v in document.items() if k != "rows"}
    parts = [json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ',\n  "rows": [\n']
    rows = [json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in document["rows"]]
    parts.append(",\n".join(f"    {r}" for r in rows))
    parts.append("\n  ]\n}\n")
    return "".join(parts)


def rendered_files(files: SeedFiles, out_dir: Path) -> dict[Path, str]:
    rendered = {
        out_dir / "data" / f"{kind}.json": _dump(doc, one_row_per_line=kind in ("prices", "benchmarks"))
        for kind, doc in files.documents.items()
    }
    rendered[out_dir / "sources.json"] = json.dumps(files.sources, indent=2, ensure_ascii=False) + "\n"
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.build", description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared data directory")
    parser.add_argument("--out", type=Path, default=SEED_DIR, help="seed directory to write into")
    parser.add_argument("--check", action="store_true", help="fail if the files on disk are out of date")
    parser.add_argument("--quiet", action="store_true", help="do not print the parameter comparison")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        files = build(args.shared)
    except SeedBuildError as e:
        log.error("seed build failed: %s", e)
        return 1
    if not args.quiet:
        sys.stdout.write(format_params_table(files.params_table) + "\n")
    stale = []
    for path, text in rendered_files(files, args.out).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        log.info("wrote %s", path)
    if stale:
        log.error("out of date (run python -m seed.build): %s", ", ".join(stale))
        return 1
    counts = ", ".join(f"{k} {len(d['rows'])}" for k, d in files.documents.items())
    log.info("seed rows: %s; sources %d", counts, len(files.sources["sources"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
