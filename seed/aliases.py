"""Alias normalisation shared by the seed builder, its tests and the loader.

People and datasets write one name many ways ("Llama 3.1 8B", "llama-3.1-8b", "NVIDIA A100-SXM4-80GB",
"nvidia-a100-sxm4-80gb"). Two names are the same alias when their keys are equal. The key is
``app.names.normalize_label`` (lower case, spaces and underscores as hyphens, parentheticals dropped), the
one rule the loader and the intent engine use too.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.names import normalize_label


def alias_key(name: str) -> str:
    """The comparison key of a name, as every part of Preflight computes it."""
    return normalize_label(name)


def unique_aliases(names: Iterable[str], *, exclude: Iterable[str] = ()) -> list[str]:
    """Drop case-insensitive duplicates and names in ``exclude``, keeping order.

    Spellings that differ only in separators ("H100 SXM" and "H100-SXM") are both kept, so a loader that only
    folds case still finds them; ``alias_key`` treats them as one name.
    """
    seen = {n.strip().lower() for n in exclude}
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(name.strip())
    return out


def build_index(rows: Iterable[tuple[str, Iterable[str]]]) -> dict[str, set[str]]:
    """Map every alias key (ids included) to the set of row ids that answer to it."""
    index: dict[str, set[str]] = {}
    for row_id, aliases in rows:
        for name in (row_id, *aliases):
            index.setdefault(alias_key(name), set()).add(row_id)
    return index
