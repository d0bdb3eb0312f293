"""Typed progress events of a deployment: `service.deploy()` yields them, the chat renders them as steps,
the CLI prints them (`line()`), the API streams them as NDJSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from app.deploy.smoke import SmokeTestResult


def _now() -> datetime:
    return datetime.now(UTC)


class _Event(BaseModel):
    deployment_id: str
    at: datetime = Field(default_factory=_now)


class StateChanged(_Event):
    """A lifecycle transition, as recorded in deployment_events."""

    kind: Literal["state"] = "state"
    from_state: str | None
    to_state: str
    actor: str
    detail: dict[str, Any] = Field(default_factory=dict)


class StepProgress(_Event):
    """Something happened inside a step (an object applied, a process started, a replica healthy)."""

    kind: Literal["step"] = "step"
    step: str = Field(
        description="render | validate | dry_run | apply | wait_ready | rollback | delete | ..."
    )
    message: str


class ManifestsRendered(_Event):
    kind: Literal["manifests"] = "manifests"
    count: int
    objects: list[str] = Field(description="kind/name of each object, in apply order")
    yaml: str = Field(description="the manifests as they will be applied")
    written: list[str] = Field(default_factory=list, description="files written for GitOps (--output-dir)")


class SmokeTested(_Event):
    kind: Literal["smoke"] = "smoke"
    result: SmokeTestResult
    skipped: str | None = Field(None, description="why the smoke test could not reach the endpoint")


class Finished(_Event):
    """The last event of a run: where the deployment ended up."""

    kind: Literal["finished"] = "finished"
    state: str
    ok: bool
    endpoint: str | None = None
    message: str


ProgressEvent = Annotated[
    StateChanged | StepProgress | ManifestsRendered | SmokeTested | Finished, Field(discriminator="kind")
]
progress_event_adapter: TypeAdapter[ProgressEvent] = TypeAdapter(ProgressEvent)


def line(event: StateChanged | StepProgress | ManifestsRendered | SmokeTested | Finished) -> str:
    """One human-readable line for a terminal."""
    t = event.at.strftime("%H:%M:%S")
    if isinstance(event, StateChanged):
        why = event.detail.get("error") or event.detail.get("reason") or ""
        return f"{t} state {event.from_state or '-'} -> {event.to_state}" + (f" ({why})" if why else "")
    if isinstance(event, StepProgress):
        return f"{t} {event.step}: {event.message}"
    if isinstance(event, ManifestsRendered):
        extra = f"; wrote {len(event.written)} files" if event.written else ""
        return f"{t} rendered and validated {event.count} manifests{extra}"
    if isinstance(event, SmokeTested):
        r = event.result
        if event.skipped:
            return f"{t} smoke test skipped: {event.skipped}"
        if not r.ok:
            return f"{t} smoke test FAILED: {r.error}"
        itl = f"{r.itl_ms_mean:.1f} ms" if r.itl_ms_mean is not None else "n/a"
        return f"{t} smoke test ok: TTFT {r.ttft_ms:.1f} ms, ITL {itl}, {r.chunks} tokens: {r.text[:60]!r}"
    where = f" at {event.endpoint}" if event.endpoint else ""
    return f"{t} {event.state}{where}: {event.message}"
