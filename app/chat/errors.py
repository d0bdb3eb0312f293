"""Turn any failure in a chat turn into a short message that says what happened and what to do next."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from app.chat.deploying import InferenceEndpointError
from app.chat.planner import PlannerUnavailableError
from app.chat.store import NotFoundError
from app.deploy.from_recommendation import PlanSourceError
from app.deploy.render import RenderError
from app.deploy.service import (
    DeploymentBusyError,
    DeploymentError,
    DeploymentNotFoundError,
    InvalidTransitionError,
)
from app.deploy.targets.base import TargetError
from app.deploy.targets.kubernetes import KubernetesTargetError
from app.deploy.validate import ManifestValidationError
from app.intent.usecases import TemplateNotFound
from db.session import DatabaseUnavailableError


def _validation_text(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__") or "value"
        parts.append(f"**{where.replace('_', ' ')}**: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


# What a person can cause or fix (bad input, someone else's id, a cluster that says no): logged as one line.
# Anything else is a bug and is logged with its traceback (never shown in the chat).
EXPECTED: tuple[type[BaseException], ...] = (
    ValidationError,
    DatabaseUnavailableError,
    PlannerUnavailableError,
    NotFoundError,
    LookupError,
    TemplateNotFound,
    TimeoutError,
    ValueError,
    DeploymentError,
    KubernetesTargetError,
    TargetError,
    ManifestValidationError,
    RenderError,
    InferenceEndpointError,
    PermissionError,
)


def is_expected(e: BaseException) -> bool:
    return isinstance(e, EXPECTED)


def _first_line(e: BaseException) -> str:
    """The first line of an error, without a trailing period (long cluster messages stay short)."""
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return text[:400].rstrip(".")


def explain(e: BaseException) -> str:
    """A person-facing message for ``e``; never a traceback."""
    if isinstance(e, ValidationError):
        return (
            f"⚠️ That value is out of range: {_validation_text(e)}. Nothing was changed; "
            "try again with a value inside the limits."
        )
    if isinstance(e, DatabaseUnavailableError):
        return (
            "⚠️ I can't reach the database right now, so I could not finish that. Your conversation is "
            "safe; wait a moment and send the message again. If it keeps happening, check `preflight status`."
        )
    if isinstance(e, KubernetesTargetError):
        return (
            f"⚠️ The cluster refused or could not be reached: {_first_line(e)}. Nothing was changed there. "
            "Check the kubeconfig and context Preflight uses (`kubectl get nodes` from the server), or "
            "deploy to the **local** target instead."
        )
    if isinstance(e, TargetError):
        return f"⚠️ The deployment target failed: {_first_line(e)}. Say **my deployments** to see where it is."
    if isinstance(e, ManifestValidationError | RenderError):
        return f"⚠️ The manifests did not pass validation, so nothing was applied: {_first_line(e)}."
    if isinstance(e, DeploymentBusyError):
        return f"⚠️ {_first_line(e)}."
    if isinstance(e, InvalidTransitionError):
        return f"⚠️ {_first_line(e)}. Say **my deployments** to see its current state."
    if isinstance(e, DeploymentNotFoundError):
        return f"⚠️ {_first_line(e).capitalize()}. It may belong to someone else or have been deleted."
    if isinstance(e, PlanSourceError):
        return f"⚠️ I can't deploy that option: {_first_line(e)}."
    if isinstance(e, DeploymentError):
        return f"⚠️ {_first_line(e)}."
    if isinstance(e, InferenceEndpointError):
        return f"⚠️ The test prompt did not get through: {_first_line(e)}"
    if isinstance(e, PlannerUnavailableError):
        return f"⚠️ I can't plan this yet: {e}. The specification above is still yours to edit."
    if isinstance(e, NotFoundError | LookupError):
        return f"⚠️ {str(e).capitalize()}. It may belong to someone else or have been deleted."
    if isinstance(e, TemplateNotFound):
        return f"⚠️ {e}. An administrator needs to seed the knowledge base."
    if isinstance(e, asyncio.TimeoutError | TimeoutError):
        return "⚠️ That took too long and was stopped. Try again; shorter or simpler requests plan faster."
    if isinstance(e, ValueError):
        return f"⚠️ {e}. Nothing was changed."
    return (
        "⚠️ Something went wrong on my side and I could not finish that. Nothing you entered was lost; "
        "please try again. If it keeps happening, an administrator can find the details in the server log."
    )
