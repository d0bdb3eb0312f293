"""Pause Python's cyclic garbage collector for one planning run (the service runs plans inside it).

A plan allocates tens of thousands of short-lived objects (candidates, violations, options) over a heap
that already holds the long-lived catalog, its memo and the prediction memos. Every allocation burst then
triggers collections that walk that whole heap: measured on the 10× catalog, half of a plan's CPU time.
The plan's objects are freed by reference counting when it ends; the few cycles wait for the next
collection. Results do not depend on it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; re-enable it only if this block disabled it."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
