"""Waiting on a condition with a deadline: how tests synchronise with processes and background tasks.

A fixed sleep is either too short on a loaded machine (a flake) or too long everywhere (a slow suite);
polling a condition until a generous deadline is neither.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

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


def wait_for_answer(
    url: str,
    proc: subprocess.Popen[str],
    *,
    timeout_s: float,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    request_timeout_s: float = 2.0,
    log: Callable[[], str] | None = None,
) -> httpx.Response:
    """Poll ``url`` on a server process until it answers (with ``status``, when given) and return the
    answer. Fails at the deadline, or as soon as the process has exited, with its log (``log``, else its
    stderr)."""

    def why() -> str:
        if log is not None:
            return log()
        return proc.stderr.read() if proc.stderr and proc.poll() is not None else ""

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            r = httpx.get(url, headers=headers, timeout=request_timeout_s)
            if status is None or r.status_code == status:
                return r
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, f"the server exited before {url} answered: {why()}"
        assert time.monotonic() < deadline, f"{url} did not answer in {timeout_s:.0f} s: {why()}"
        time.sleep(0.5)
