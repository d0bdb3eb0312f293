"""Waiting on a condition with a deadline: how tests synchronise with processes and background tasks.

A fixed sleep is either too short on a loaded machine (a flake) or too long everywhere (a slow suite);
polling a condition until a generous deadline is neither.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T]], what: str, *, timeout_s: float = 30.0, every_s: float = 0.1
) -> T:
    """Call ``probe`` until it returns something truthy and return that; fail naming ``what`` at the
    deadline, with the last value seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {value!r})")
        await asyncio.sleep(every_s)
