"""Name normalisation: one rule for matching the many ways people and sources write a model or GPU name.

"NVIDIA H100 80GB", "nvidia-h100-80gb" and "H100_80GB" all normalise alike; a parenthetical remark such as
"GH200-120GB (trtllm_dli_csv label)" is ignored. Used by the seed loader, the intent vocabulary and the
catalog lookups, so that every part of Preflight resolves a name the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.errors import Invalid

_PAREN = re.compile(r"\([^)]*\)")
_SEPARATORS = re.compile(r"[\s_]+")


def normalize_label(label: str) -> str:
    text = _PAREN.sub("", label).strip().lower()
    text = _SEPARATORS.sub("-", text)
    return re.sub(r"-{2,}", "-", text).strip("-")


class AmbiguousNameError(Invalid, ValueError):
    """A name that matches more than one catalog entry."""


class AliasIndex:
    """Maps normalised names to canonical ids. A name claimed by two ids is ambiguous and refused."""

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._ambiguous: dict[str, set[str]] = {}

    def add(self, canonical_id: str, names: Iterable[str]) -> None:
        for name in [canonical_id, *names]:
            key = normalize_label(name)
            if not key:
                continue
            owner = self._by_name.get(key)
            if owner is None and key not in self._ambiguous:
                self._by_name[key] = canonical_id
            elif owner is not None and owner != canonical_id:
                self._ambiguous[key] = {owner, canonical_id}
                del self._by_name[key]
            elif key in self._ambiguous:
                self._ambiguous[key].add(canonical_id)

    def resolve(self, name: str) -> str | None:
        key = normalize_label(name)
        if key in self._ambiguous:
            raise AmbiguousNameError(f"{name!r} could mean any of {sorted(self._ambiguous[key])}")
        return self._by_name.get(key)

    def ids(self) -> set[str]:
        return set(self._by_name.values())

    def names(self) -> dict[str, str]:
        return dict(self._by_name)
