"""Alias normalisation shared by the seed builder, its tests and the loader.

People and datasets write one name many ways ("Llama 3.1 8B", "llama-3.1-8b", "NVIDIA A100-SXM4-80GB",
"nvidia-a100-sxm4-80gb"). Two names are the same alias when their keys are equal: lower case, with runs of
spaces and underscores turned into one hyphen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_]+")


def alias_key(name: str) -> str:
    """The comparison key of a name: case-insensitive, spaces and underscores read as hyphens."""
    return _SEPARATORS.sub("-", name.strip().lower())


def unique_aliases(names: Iterable[str], *, exclude: Iterable[str] = ()) -> list[str]:
    """Keep the first spelling of each key, in order, dropping names whose key is in ``exclude``."""
    seen = {alias_key(n) for n in exclude}
    out: list[str] = []
    for name in names:
        key = alias_key(name)
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
