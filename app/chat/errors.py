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


# What each kind of failure tells the person, first match wins: a subclass comes before its base
# (KubernetesTargetError before TargetError, the deployment errors before DeploymentError, NotFoundError and
# the others before LookupError and ValueError). Placeholders: {line} the error's first line, {text} all of
# it, {Line}/{Text} the same capitalised, {fields} what a ValidationError says is out of range.
_MESSAGES: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    (
        (ValidationError,),
        "⚠️ That value is out of range: {fields}. Nothing was changed; "
        "try again with a value inside the limits.",
    ),
    (
        (DatabaseUnavailableError,),
        "⚠️ I can't reach the database right now, so I could not finish that. Your conversation is "
        "safe; wait a moment and send the message again. If it keeps happening, check `preflight status`.",
    ),
    (
        (KubernetesTargetError,),
        "⚠️ The cluster refused or could not be reached: {line}. Nothing was changed there. "
        "Check the kubeconfig and context Preflight uses (`kubectl get nodes` from the server), or "
        "deploy to the **local** target instead.",
    ),
    ((TargetError,), "⚠️ The deployment target failed: {line}. Say **my deployments** to see where it is."),
    (
        (ManifestValidationError, RenderError),
        "⚠️ The manifests did not pass validation, so nothing was applied: {line}.",
    ),
    ((DeploymentBusyError,), "⚠️ {line}."),
    ((InvalidTransitionError,), "⚠️ {line}. Say **my deployments** to see its current state."),
    ((DeploymentNotFoundError,), "⚠️ {Line}. It may belong to someone else or have been deleted."),
    ((PlanSourceError,), "⚠️ I can't deploy that option: {line}."),
    ((DeploymentError,), "⚠️ {line}."),
    ((InferenceEndpointError,), "⚠️ The test prompt did not get through: {line}"),
    (
        (PlannerUnavailableError,),
        "⚠️ I can't plan this yet: {text}. The specification above is still yours to edit.",
    ),
    ((NotFoundError, LookupError), "⚠️ {Text}. It may belong to someone else or have been deleted."),
    ((TemplateNotFound,), "⚠️ {text}. An administrator needs to seed the knowledge base."),
    (
        (asyncio.TimeoutError, TimeoutError),
        "⚠️ That took too long and was stopped. Try again; shorter or simpler requests plan faster.",
    ),
    ((ValueError,), "⚠️ {text}. Nothing was changed."),
)
_UNEXPECTED = (
    "⚠️ Something went wrong on my side and I could not finish that. Nothing you entered was lost; "
    "please try again. If it keeps happening, an administrator can find the details in the server log."
)


def explain(e: BaseException) -> str:
    """A person-facing message for ``e``; never a traceback."""
    for types, template in _MESSAGES:
        if isinstance(e, types):
            line, text = _first_line(e), str(e)
            fields = _validation_text(e) if isinstance(e, ValidationError) else ""
            return template.format(
                line=line, Line=line.capitalize(), text=text, Text=text.capitalize(), fields=fields
            )
    return _UNEXPECTED
