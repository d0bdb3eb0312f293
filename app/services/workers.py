"""The bounded pool that runs CPU-heavy work (planning, embeddings) off the event loop.

A request either gets a slot (one of ``cpu_workers`` running, or one of ``cpu_queue`` waiting) at once, or
is refused at once with :class:`~app.errors.RateLimited` and a retry time. So the event loop never runs the
planner or the encoder itself, nothing waits in an unbounded queue, and a burst becomes 429s with
``Retry-After`` instead of database-pool timeouts.

Threads, not processes: the planner's inputs (a cached catalog with its physics memo) are large and shared,
and the heavy parts are numpy, which releases the GIL. The event loop keeps answering between steps.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from app.config import Settings, get_settings
from app.errors import RateLimited

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    def __init__(self, workers: int, queue: int, retry_after_s: float) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.retry_after_s = retry_after_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="preflight-cpu")
        # Only touched from event-loop threads, between awaits; CPython's int updates are atomic there.
        self._admitted = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread; RateLimited when every slot is taken."""
        if self._admitted >= self.capacity:
            raise RateLimited(
                f"the planner is at capacity ({self.capacity} requests running or queued); "
                f"retry in {self.retry_after_s:g} s",
                retry_after_s=self.retry_after_s,
            )
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        finally:
            self._admitted -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_pools: dict[str, WorkerPool] = {}


def cpu_pool(settings: Settings | None = None) -> WorkerPool:
    """The process-wide pool for CPU work (planning, embeddings), sized by the settings on first use."""
    if "cpu" not in _pools:
        s = settings or get_settings()
        _pools["cpu"] = WorkerPool(s.cpu_workers, s.cpu_queue, s.cpu_retry_after_s)
    return _pools["cpu"]


def llm_pool(settings: Settings | None = None) -> WorkerPool:
    """The pool for intent extraction: the synchronous LLM client (seconds of waiting on a remote model)
    must neither block the event loop nor take the planner's workers."""
    if "llm" not in _pools:
        s = settings or get_settings()
        _pools["llm"] = WorkerPool(s.llm_workers, s.llm_queue, s.cpu_retry_after_s)
    return _pools["llm"]


def reset_cpu_pool() -> None:
    """Drop the pools (tests that change their size; a server shutting down)."""
    for pool in _pools.values():
        pool.shutdown()
    _pools.clear()
