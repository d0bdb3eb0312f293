"""Typed errors of the planning layer. Each message says what to change."""

from __future__ import annotations

from app.errors import Invalid


class PlanningError(Invalid, ValueError):
    """Base class: a planning input that cannot be evaluated."""


class InvalidConfigError(PlanningError):
    """A configuration that is inconsistent (TP larger than the head count, negative lengths, ...)."""


class UnknownModelError(PlanningError):
    """The model alias, id or config path could not be resolved."""


class UnknownGpuError(PlanningError):
    """The GPU alias could not be resolved."""
