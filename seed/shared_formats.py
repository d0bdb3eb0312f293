"""Reading the multi-section files in shared/data directly (`preflight seed load ../shared/data/...`).

Those files are in their publishers' shapes, not in our row shapes. The curation in ``seed/curate_*.py`` (the
same code that builds ``seed/data``) turns them into rows, so loading a shared file gives exactly the rows
the bundled seed holds. A record that cannot be converted becomes a row problem, reported like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seed.schemas import SeedKind

CONVERSION_ERROR = "__conversion_error__"


def _bad(message: str) -> dict[str, Any]:
    return {CONVERSION_ERROR: message}


def _models(path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    from seed.curate_models import attach_quality_scores, build_model_row

    rows = []
    for record in doc["models"]:
        if not isinstance(record, dict) or "hf_id" not in record:
            rows.append(_bad("a catalog model record needs hf_id"))
            continue
        try:
            row, _ = build_model_row(record, record.get("role", "recommendable"))
            rows.append(row)
        except (KeyError, ValueError, TypeError) as e:
            rows.append(_bad(f"cannot convert {record.get('hf_id')}: {e}"))
    # The published scores live in their own file beside the catalog; the bundled seed carries them on each
    # model row, so a direct load attaches them the same way (when the file is there).
    scores = path.with_name("quality_scores.json")
    if scores.is_file():
        attach_quality_scores([r for r in rows if CONVERSION_ERROR not in r], json.loads(scores.read_text()))
    return rows


def _prices(doc: dict[str, Any]) -> list[dict[str, Any]]:
    from seed.curate_measurements import excludes_host

    urls = {s.get("id"): s.get("where") for s in doc.get("sources", []) if isinstance(s, dict)}
    rows = []
    for raw in doc["prices"]:
        if not isinstance(raw, dict):
            rows.append(_bad("expected an object"))
            continue
        row = dict(raw)
        url = urls.get(row.get("source"))
        row.setdefault("source_url", url if isinstance(url, str) and url.startswith("http") else None)
        row.setdefault("excludes_host", excludes_host(raw))
        rows.append(row)
    return rows


def _benchmarks(doc: dict[str, Any], section: str) -> list[dict[str, Any]]:
    from seed.curate_measurements import MEASUREMENT_COLLECTED

    rows = []
    for raw in doc[section]:
        if not isinstance(raw, dict):
            rows.append(_bad("expected an object"))
            continue
        row = dict(raw)
        known = MEASUREMENT_COLLECTED.get(str(row.get("source")))
        row["collected"] = row.get("collected") or (known[0] if known else None)
        rows.append(row)
    return rows


def _reference_gpus(path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """reference_gpus.json supplements the published gpus[]; both are needed to build whole GPU rows."""
    from seed.curate_gpus import build_gpu_rows

    shared = path.resolve().parent.parent
    published = shared / "published" / "serving_measurements.json"
    prices = shared / "catalog" / "gpu_prices.json"
    if not published.exists():
        return [
            _bad(
                f"{path.name} supplements published/serving_measurements.json, which is not at {published}; "
                "load seed/data/gpus.json instead"
            )
        ]
    rows, _ = build_gpu_rows(
        json.loads(published.read_text()),
        doc,
        json.loads(prices.read_text()) if prices.exists() else {},
    )
    return rows


def convert_sections(path: Path, doc: dict[str, Any]) -> dict[SeedKind, tuple[str, list[Any]]]:
    found: dict[SeedKind, tuple[str, list[Any]]] = {}
    if isinstance(doc.get("measurements"), list):
        # serving_measurements.json: its gpus[]/models[] sections are the publisher's partial spec notes; the
        # catalog files hold those facts completely, so only the measurements load from here.
        found["benchmarks"] = ("measurements", _benchmarks(doc, "measurements"))
        return found
    if isinstance(doc.get("benchmarks"), list):
        found["benchmarks"] = ("benchmarks", _benchmarks(doc, "benchmarks"))
    if isinstance(doc.get("models"), list):
        found["models"] = ("models", _models(path, doc))
    if isinstance(doc.get("prices"), list):
        found["prices"] = ("prices", _prices(doc))
    if isinstance(doc.get("gpus"), list):
        records = doc["gpus"]
        if any(isinstance(r, dict) and "record_type" in r for r in records):
            found["gpus"] = ("gpus", _reference_gpus(path, doc))
        else:
            found["gpus"] = ("gpus", records)
    for name in ("usecases", "use_cases"):
        if isinstance(doc.get(name), list):
            found["usecases"] = (name, doc[name])
    return found
