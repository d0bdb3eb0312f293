"""A memo of predictions that its owner injects: app.perf itself keeps no state between calls.

The process that computes predictions (the recommendation service, each worker of a pool, the CLI) creates
one memo and passes it to ``predict``. Entries are keyed by the catalog version as well as the inputs, so a
catalog change (new prices, a corrected model card) cannot serve a stale prediction: the first lookup under
a new version drops everything older.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """A bounded least-recently-used map for one catalog version at a time (not thread-safe: one per
    process or thread)."""

    def __init__(self, catalog_version: Hashable = None, size: int = 4096) -> None:
        if size <= 0:
            raise ValueError("memo size must be positive")
        self.catalog_version = catalog_version
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def use_version(self, catalog_version: Hashable) -> None:
        """Switch to another catalog version, forgetting every entry of the previous one."""
        if catalog_version != self.catalog_version:
            self._items.clear()
            self.catalog_version = catalog_version

    def get(self, key: Hashable) -> V | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, key: Hashable, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
