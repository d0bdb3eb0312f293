"""Reading seed files: JSON (ours, or the multi-section files in shared/data) and CSV with dotted columns.

The result is, per kind, a list of ``RawRow``: the row's dict plus a locator ("line 7", "rows[12]") so every
problem can be reported against the place a person can find it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import Invalid
from seed.schemas import SEED_KINDS, SeedKind


class SeedFileError(Invalid, ValueError):
    """The file as a whole cannot be read (not JSON/CSV, no recognisable section, unknown kind)."""


@dataclass(frozen=True)
class RawRow:
    kind: SeedKind
    locator: str
    data: dict[str, Any]


# Section names in the files we accept, and the kind each holds.
SECTION_KINDS: dict[str, SeedKind] = {
    "models": "models",
    "gpus": "gpus",
    "prices": "prices",
    "measurements": "benchmarks",
    "benchmarks": "benchmarks",
    "usecases": "usecases",
    "use_cases": "usecases",
}


def read_seed_file(path: Path, kind: SeedKind | None = None) -> dict[SeedKind, list[RawRow]]:
    if not path.exists():
        raise SeedFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, kind or _kind_from_name(path))
    if suffix in (".json", ".jsonl"):
        try:
            text = path.read_text(encoding="utf-8")
            doc: Any = (
                [json.loads(line) for line in text.splitlines() if line.strip()]
                if suffix == ".jsonl"
                else json.loads(text)
            )
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SeedFileError(f"{path}: not valid JSON: {e}") from e
        return _read_json_doc(path, doc, kind)
    raise SeedFileError(f"{path}: unsupported file type {suffix!r}; use .json, .jsonl or .csv")


def _kind_from_name(path: Path) -> SeedKind:
    stem = path.stem.lower()
    for name, kind in SECTION_KINDS.items():
        if name in stem:
            return kind
    raise SeedFileError(
        f"{path}: cannot tell what kind of rows this CSV holds; pass --kind ({', '.join(SEED_KINDS)})"
    )


def _read_json_doc(path: Path, doc: Any, kind: SeedKind | None) -> dict[SeedKind, list[RawRow]]:
    if isinstance(doc, list):
        if kind is None:
            raise SeedFileError(f"{path}: a bare JSON list needs --kind ({', '.join(SEED_KINDS)})")
        return {kind: _rows(kind, doc, "")}
    if not isinstance(doc, dict):
        raise SeedFileError(f"{path}: expected a JSON object or list at the top level")
    # Our own format: {"kind": ..., "rows": [...]}
    if "rows" in doc:
        declared = doc.get("kind", kind)
        if declared not in SEED_KINDS:
            raise SeedFileError(f"{path}: unknown kind {declared!r}; expected one of {', '.join(SEED_KINDS)}")
        if kind is not None and kind != declared:
            raise SeedFileError(f"{path}: the file holds {declared}, not {kind}")
        return {declared: _rows(declared, doc["rows"], "rows")}
    # Multi-section files (shared/data): each known section is a list of rows of one kind.
    from seed.shared_formats import convert_sections

    found = convert_sections(path, doc)
    if kind is not None:
        found = {k: v for k, v in found.items() if k == kind}
    if not found:
        raise SeedFileError(
            f"{path}: no section with rows found (looked for {', '.join(SECTION_KINDS)}, or 'rows')"
        )
    return {k: _rows(k, rows, section) for k, (section, rows) in found.items()}


def _rows(kind: SeedKind, items: Any, section: str) -> list[RawRow]:
    if not isinstance(items, list):
        raise SeedFileError(f"section {section or 'top level'} must be a list of rows")
    out = []
    for i, item in enumerate(items):
        where = f"{section}[{i}]" if section else f"[{i}]"
        out.append(RawRow(kind, where, item if isinstance(item, dict) else {"__not_an_object__": item}))
    return out


def _read_csv(path: Path, kind: SeedKind) -> dict[SeedKind, list[RawRow]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = [RawRow(kind, f"line {reader.line_num}", _unflatten(record)) for record in reader]
    except (UnicodeDecodeError, csv.Error) as e:
        raise SeedFileError(f"{path}: not readable as CSV: {e}") from e
    return {kind: rows}


def _cell(value: str | None) -> Any:
    if value is None:
        return None
    value = value.strip()
    if value == "":
        return None
    if value[0] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _unflatten(record: dict[str, str | None]) -> dict[str, Any]:
    """``{"source.url": "x"}`` becomes ``{"source": {"url": "x"}}``; empty cells are absent."""
    out: dict[str, Any] = {}
    for column, raw in record.items():
        if column is None:
            out.setdefault("__extra_cells__", raw)
            continue
        value = _cell(raw)
        if value is None:
            continue
        parts = column.strip().split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of ``_unflatten`` for export: nested dicts become dotted columns, lists become JSON."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, dict)):
            out[name] = json.dumps(value, sort_keys=True) if value else ""
        else:
            out[name] = "" if value is None else value
    return out
