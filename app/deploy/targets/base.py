"""What the deployment service needs from a target (local processes or a Kubernetes cluster).

Every method is idempotent: `apply` on what is already running changes nothing, `delete` of what is gone
succeeds. `runtime` is the target's own JSON-able record (deployments.runtime), persisted by the service
through `save_runtime` as soon as it changes, so a restarted Preflight can find what was started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.deploy.plan import DeploymentPlan
from app.errors import Unavailable

SaveRuntime = Callable[[dict[str, Any]], Awaitable[None]]
Note = Callable[[str], Awaitable[None]]


class TargetError(Unavailable):
    """A target could not do what was asked; the message says what to do about it."""


@dataclass
class ApplyOutcome:
    changed: bool
    lines: list[str] = field(default_factory=list)  # one per object or process, for the progress stream
    runtime: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadyOutcome:
    endpoint: str | None
    endpoints: list[str] = field(default_factory=list)  # per replica, for the metrics scraper
    runtime: dict[str, Any] = field(default_factory=dict)
    smoke_reachable: bool = True  # False when the endpoint cannot be reached from where Preflight runs


class DeployTarget(Protocol):
    kind: str

    async def preview(self, plan: DeploymentPlan, docs: list[dict[str, Any]]) -> list[str]: ...

    async def apply(
        self,
        plan: DeploymentPlan,
        docs: list[dict[str, Any]],
        runtime: dict[str, Any],
        save_runtime: SaveRuntime,
        note: Note,
    ) -> ApplyOutcome: ...

    async def wait_ready(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any], timeout_s: float
    ) -> ReadyOutcome: ...

    async def delete(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any]
    ) -> list[str]: ...

    async def close(self) -> None: ...
